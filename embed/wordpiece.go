package embed

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/model"
	"github.com/sugarme/tokenizer/model/wordpiece"
	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretokenizer"
)

// bertVocab is bert-base-uncased's WordPiece vocabulary (30,522 tokens, Apache
// 2.0), copied from github.com/sugarme/tokenizer's pretrained/model so that
// nothing reads the module cache or a model hub at run time.
//
//go:embed bert-base-uncased-vocab.txt
var bertVocab []byte

// WordPiece splits text into bert-base-uncased subword tokens with
// github.com/sugarme/tokenizer: rare and compound words share pieces
// ("magnetohydrodynamics" → "magnet", "##oh", "##yd", "##rod", "##yna", "##mics"),
// which catches morphology that a stemmer misses. Safe for concurrent use.
type WordPiece struct {
	tk *tokenizer.Tokenizer
}

var (
	wordPieceOnce sync.Once
	wordPiece     *WordPiece
	wordPieceErr  error
)

// NewWordPiece returns the shared WordPiece tokenizer, loading the embedded
// vocabulary on first use.
//
// Two pitfalls of sugarme/tokenizer v0.3.0 are avoided: the BERT normalizer
// panics on some characters (İ, Ω, the Kelvin sign) when stripping accents,
// so accents are folded by [Normalize] first and the normalizer's stripping
// is off; and pretrained.BertBaseUncased changes the working directory, so
// the model is built from the vocabulary directly.
func NewWordPiece() (*WordPiece, error) {
	wordPieceOnce.Do(func() {
		vocab := model.Vocab{}
		sc := bufio.NewScanner(bytes.NewReader(bertVocab))
		for id := 0; sc.Scan(); id++ {
			vocab[strings.TrimRight(sc.Text(), "\r")] = id
		}
		if err := sc.Err(); err != nil || len(vocab) == 0 {
			wordPieceErr = fmt.Errorf("load wordpiece vocabulary: %d tokens, %v", len(vocab), err)
			return
		}
		wp := wordpiece.NewWordPieceBuilder().Vocab(&vocab).UnkToken("[UNK]").Build()
		tk := tokenizer.NewTokenizer(wp)
		// cleanText is off: the library's cleaning mis-tracks offsets and
		// panics on some inputs; Tokens cleans the text itself.
		tk.WithNormalizer(normalizer.NewBertNormalizer(false, true, true, false))
		tk.WithPreTokenizer(pretokenizer.NewBertPreTokenizer())
		wordPiece = &WordPiece{tk: tk}
	})
	return wordPiece, wordPieceErr
}

// Tokens returns the subword tokens of text, after Normalize. Control and
// format characters (a zero-width space, a soft hyphen), U+FFFD and invalid
// UTF-8 are removed first: sugarme/tokenizer v0.3.0's own cleaning panics on
// some of them. A panic inside the library is returned as an error.
func (w *WordPiece) Tokens(text string) (toks []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			toks, err = nil, fmt.Errorf("wordpiece: tokenizer panicked: %v", r)
		}
	}()
	en, err := w.tk.EncodeSingle(cleanForWordPiece(Normalize(text)), false)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	return en.Tokens, nil
}

// cleanForWordPiece does what BERT's cleanText does, safely: white space
// control characters become spaces; other control and format characters,
// U+FFFD and invalid bytes are dropped.
func cleanForWordPiece(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// Analyze is an analyzer for [TFIDFConfig.Analyzer]: subword tokens, without
// stop words, punctuation, numbers and [UNK]. A token starts a new word
// unless it continues one ("##"), and Break marks a new word.
func (w *WordPiece) Analyze(text string) []Token {
	toks, err := w.Tokens(text)
	if err != nil {
		return nil
	}
	var out []Token
	// Group pieces into words and keep the words that are content words.
	for start := 0; start < len(toks); {
		end := start + 1
		for end < len(toks) && strings.HasPrefix(toks[end], "##") {
			end++
		}
		var word strings.Builder
		for _, t := range toks[start:end] {
			word.WriteString(strings.TrimPrefix(t, "##"))
		}
		if toks[start] != "[UNK]" && isContentWord(word.String()) {
			for i, t := range toks[start:end] {
				out = append(out, Token{Term: t, Word: word.String(), Break: i == 0})
			}
		}
		start = end
	}
	return out
}
