package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/paperrec/paperrec/recommend"
)

// writeSnapshot writes svc to path atomically (temp file, fsync, rename)
// and a sha256sum-style sidecar path+".sha256".
func (e *env) writeSnapshot(svc *recommend.Service, path string) ([32]byte, int64, error) {
	pf, err := renameio.NewPendingFile(path)
	if err != nil {
		return [32]byte{}, 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	defer pf.Cleanup()
	if err := pf.Chmod(0o644); err != nil {
		return [32]byte{}, 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	w, done := e.byteBar(pf, "snapshot")
	bw := bufio.NewWriterSize(w, 1<<20)
	sum, err := svc.WriteSnapshot(bw)
	done()
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return sum, 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	size, _ := pf.Seek(0, 1)
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return sum, 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	line := hex.EncodeToString(sum[:]) + "  " + filepath.Base(path) + "\n"
	if err := renameio.WriteFile(path+".sha256", []byte(line), 0o644); err != nil {
		return sum, size, fmt.Errorf("write checksum %s.sha256: %w", path, err)
	}
	return sum, size, nil
}

// readSnapshot loads a snapshot, verifies its checksum and, when want is
// set, that it is the expected one. It returns the snapshot's SHA-256 in hex.
func (e *env) readSnapshot(ctx context.Context, path, want string) (*recommend.Service, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	svc, sum, err := recommend.ReadSnapshot(ctx, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, "", fmt.Errorf("load %s: %w", path, err)
	}
	got := hex.EncodeToString(sum[:])
	if want != "" && !strings.EqualFold(want, got) {
		return nil, "", fmt.Errorf("load %s: sha256 %s, want %s", path, got, want)
	}
	st := svc.Stats()
	e.log.Info("snapshot loaded", "file", path, "sha256", got, "papers", st.Papers, "themes", st.Themes,
		"index", st.Index, "took", st.Duration.Round(1e6))
	return svc, got, nil
}

func (e *env) buildCmd() *cobra.Command {
	var (
		cf  corpusFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "build --out FILE",
		Short: "Build the engine once and write a checksummed snapshot that replicas serve with serve --snapshot",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{fmt.Errorf("--out: required")}
			}
			svc, err := e.buildService(cmd.Context(), cf)
			if err != nil {
				return err
			}
			sum, size, err := e.writeSnapshot(svc, out)
			if err != nil {
				return err
			}
			e.log.Info("snapshot written", "file", out, "bytes", size, "sha256", hex.EncodeToString(sum[:]))
			fmt.Fprintf(e.stdout, "%x  %s\n", sum, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "snapshot file to write (and FILE.sha256)")
	e.addCorpusFlags(cmd, &cf)
	return cmd
}
