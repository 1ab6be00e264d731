package datasets

import (
	"os"
	"testing"
)

// TestSharedDataPresentUnderCI: tests across the project skip when the real
// data is absent; under CI (CI set) the data is part of the contract, so its
// absence must fail loudly instead of turning those tests into skips.
func TestSharedDataPresentUnderCI(t *testing.T) {
	if os.Getenv("CI") == "" {
		t.Skip("only under CI")
	}
	for _, load := range []struct {
		name string
		fn   func() error
	}{
		{"ptb-char", func() error { _, err := LoadPTBChar(); return err }},
		{"ptb", func() error { _, err := LoadPTBWord(); return err }},
		{"mnist", func() error { _, err := LoadMNIST(); return err }},
		{"warpeace", func() error { _, err := LoadWarAndPeace(); return err }},
	} {
		if err := load.fn(); err != nil {
			t.Errorf("%s: %v (CI must run with ../shared/data beside the clone, or RBT_DATA)", load.name, err)
		}
	}
}
