package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/data"
	"github.com/paperrec/paperrec/embed"
	"github.com/paperrec/paperrec/models"
	"github.com/paperrec/paperrec/recommend"
)

// corpusFlags are the flags every command that builds the engine shares.
type corpusFlags struct {
	path        string
	skipInvalid bool
	index       string
	tokenizer   string
	stemmer     string
}

func (e *env) addCorpusFlags(cmd *cobra.Command, f *corpusFlags) {
	cmd.Flags().StringVar(&f.path, "corpus", e.getenv("PAPERREC_CORPUS"),
		"corpus file: the listing format or JSON Lines (default: the bundled listing; env PAPERREC_CORPUS)")
	cmd.Flags().BoolVar(&f.skipInvalid, "skip-invalid", false, "load the good records of a corpus and report each malformed one")
	cmd.Flags().StringVar(&f.index, "index", "exact", "candidate index: exact or hnsw (for large corpora)")
	cmd.Flags().StringVar(&f.tokenizer, "tokenizer", "words", "text features: words or wordpiece (BERT subwords)")
	cmd.Flags().StringVar(&f.stemmer, "stemmer", "plural", "word stemming: plural, snowball or none")
}

// loadCorpus reads the corpus named by the flags, or the bundled listing.
func (e *env) loadCorpus(f corpusFlags) (*models.Corpus, error) {
	var (
		r    io.Reader
		name string
	)
	if f.path == "" {
		r, name = bytes.NewReader(data.Listing), data.ListingName
	} else {
		file, err := os.Open(f.path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		r, name = file, filepath.Base(f.path)
	}
	res, err := models.Parse(r, name, models.ParseOptions{SkipInvalid: f.skipInvalid})
	if err != nil {
		return nil, err
	}
	for _, s := range res.Skipped {
		fmt.Fprintln(e.stderr, "skipped:", s)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintf(e.stderr, "skipped %d malformed records; loaded %d papers\n", len(res.Skipped), len(res.Papers))
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if len(res.Papers) == 0 {
		return nil, fmt.Errorf("%s: no papers", name)
	}
	models.AssignIDs(res.Papers)
	return models.NewCorpus(res.Papers)
}

// buildService loads the corpus and builds the engine over it.
func (e *env) buildService(ctx context.Context, f corpusFlags) (*recommend.Service, error) {
	return e.buildServiceWith(ctx, f, nil)
}

// skipThemes is a buildServiceWith option for commands that use no themes.
func skipThemes(c *recommend.Config) { c.SkipThemes = true }

// config checks the engine flags, before anything is loaded, and returns
// the engine configuration they give.
func (f corpusFlags) config() (recommend.Config, error) {
	switch recommend.Tokenizer(f.tokenizer) {
	case "", recommend.TokenizerWords, recommend.TokenizerWordPiece:
	default:
		return recommend.Config{}, usageError{fmt.Errorf("--tokenizer %q: want words or wordpiece", f.tokenizer)}
	}
	switch recommend.IndexKind(f.index) {
	case "", recommend.IndexExact, recommend.IndexHNSW:
	default:
		return recommend.Config{}, usageError{fmt.Errorf("--index %q: want exact or hnsw", f.index)}
	}
	stemmer, err := embed.ParseStemmer(f.stemmer)
	if err != nil {
		return recommend.Config{}, usageError{fmt.Errorf("--stemmer: %w", err)}
	}
	return recommend.Config{Index: recommend.IndexKind(f.index), Tokenizer: recommend.Tokenizer(f.tokenizer), Stemmer: stemmer}, nil
}

// buildServiceWith builds the engine with a configuration adjusted by tune.
func (e *env) buildServiceWith(ctx context.Context, f corpusFlags, tune func(*recommend.Config)) (*recommend.Service, error) {
	if _, err := f.config(); err != nil {
		return nil, err
	}
	c, err := e.loadCorpus(f)
	if err != nil {
		return nil, err
	}
	return e.buildFrom(ctx, c, f, tune)
}

// buildFrom builds the engine over a loaded corpus.
func (e *env) buildFrom(ctx context.Context, c *models.Corpus, f corpusFlags, tune func(*recommend.Config)) (*recommend.Service, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(&cfg)
	}
	var finish func()
	cfg.Progress, finish = e.progress()
	svc, err := recommend.New(ctx, c, cfg)
	finish()
	if err != nil {
		return nil, err
	}
	st := svc.Stats()
	e.log.Info("engine built", "papers", st.Papers, "features", st.Features, "phrases", st.Phrases,
		"dims", st.Dims, "themes", st.Themes, "index", st.Index, "took", st.Duration.Round(1e6))
	return svc, nil
}
