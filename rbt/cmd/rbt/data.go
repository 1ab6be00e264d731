package main

// rbt data finds, downloads and verifies the datasets of the paper:
//
//	rbt data where                  # data roots and where each dataset is found
//	rbt data fetch [-dir D] NAME... # download into D (default: the user cache dir); NAME or "all"
//	rbt data verify [NAME...]       # check the files found against sizes and checksums
//
// Downloads come from the canonical URL, then mirrors, and are accepted only
// when they match the sizes and checksums of shared/data/SOURCES.md (see
// package datasets/download).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/download"
)

func init() {
	register("data", "find, download (with checksums) and verify the datasets", runData)
}

func dataUsage() error {
	return fmt.Errorf("usage: rbt data where | fetch [-dir D] NAME...|all | verify [NAME...]\ndatasets: %v", datasets.Names())
}

func runData(args []string) error {
	if len(args) == 0 {
		return dataUsage()
	}
	switch args[0] {
	case "where":
		return where()
	case "fetch":
		fl := flag.NewFlagSet("fetch", flag.ContinueOnError)
		dir := fl.String("dir", "", "data root to download into (default: "+cacheDirOrEmpty()+")")
		if err := fl.Parse(args[1:]); err != nil {
			return err
		}
		names := fl.Args()
		if len(names) == 1 && names[0] == "all" {
			names = nil
			for _, n := range datasets.Names() {
				if n != datasets.LinuxSubstitute { // built, not downloaded
					names = append(names, n)
				}
			}
		}
		if len(names) == 0 {
			return dataUsage()
		}
		for _, n := range names { // every name checked before anything is fetched
			if _, err := datasets.Files(n); err != nil {
				return err
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		fe := &download.Fetcher{}
		defer fe.Close()
		for _, n := range names {
			out, err := datasets.Fetch(ctx, fe, n, *dir)
			if err != nil {
				return failed(err)
			}
			fmt.Printf("%s: verified in %s\n", n, out)
		}
		return nil
	case "verify":
		names := args[1:]
		if len(names) == 0 {
			names = datasets.Names()
		}
		failed := false
		for _, n := range names {
			files, err := datasets.Files(n)
			if err != nil {
				return err
			}
			for _, f := range files {
				p, err := datasets.Path(n, f.Name)
				if errors.Is(err, fs.ErrNotExist) {
					fmt.Printf("%s/%s: missing\n", n, f.Name)
					continue
				}
				if err == nil {
					err = download.Verify(p, f)
				}
				if err != nil {
					failed = true
					fmt.Printf("%s/%s: BAD: %v\n", n, f.Name, err)
					continue
				}
				fmt.Printf("%s/%s: ok (%s)\n", n, f.Name, p)
			}
		}
		if failed {
			return errors.New("some files failed verification: move them away and download them again with `rbt data fetch NAME` (or copy them from a good source)")
		}
		return nil
	}
	return dataUsage()
}

func cacheDirOrEmpty() string {
	c, err := datasets.CacheDir()
	if err != nil {
		return "none"
	}
	return c
}

func where() error {
	roots, err := datasets.Roots()
	if err != nil {
		return err
	}
	fmt.Println("data roots, in search order:")
	for _, r := range roots {
		fmt.Println("  " + r)
	}
	for _, n := range append(datasets.Names(), datasets.CNNQA) {
		files, _ := datasets.Files(n)
		name := "questions"
		if len(files) > 0 {
			name = files[0].Name
		}
		p, err := datasets.Path(n, name)
		if err != nil {
			fmt.Printf("%-17s missing\n", n)
			continue
		}
		fmt.Printf("%-17s %s\n", n, filepath.Dir(p))
	}
	return nil
}
