// Package datasets loads the datasets of "Learning Recurrent Binary/Ternary
// Weights" (Ardakani et al., ICLR 2019) and turns them into the batches its
// experiments train on, as plain Go slices. The package does not depend on
// GoMLX, so the simulator (hwsim) and the packed engine read the same data;
// package datasets/batches turns the batches into GoMLX tensors.
//
// # Where the data is
//
// Every dataset lives in its own folder under a data root laid out like the
// project's ../shared/data (ptb/, ptb-char/, mnist/, warpeace/, ...). Roots
// are searched in order: $RBT_DATA (alone, when set), ../shared/data beside
// the repository root, then the user cache directory (os.UserCacheDir()/rbt/data)
// that Fetch and the `rbt data` command fill:
//
//	go run github.com/rbt-project/rbt/rbt/cmd/rbt data fetch ptb-char
//
// Path(dataset, file) finds a file; a missing one gives a *MissingError that
// names the file, the places searched and the command or URL that gets it.
// Downloads (package download) come from the canonical URL and then mirrors,
// are checked against the size and SHA-256 (or git blob id) of
// shared/data/SOURCES.md and land atomically; nothing else is ever used in
// their place.
//
// # The datasets
//
//	loader            symbols/vocab   train / valid / test                split rule
//	LoadPTBChar       50              5,017,482 / 393,042 / 442,423 chars  Mikolov's files
//	LoadWarAndPeace   83 code points  2,606,580 / 325,823 / 325,823        80/10/10 contiguous
//	LoadLinux         101             90/5/5 of 6,206,993 (real file)      90/5/5 contiguous
//	LoadText8         27              90M / 5M / 5M                        90/5/5 contiguous
//	LoadPTBWord       10,000 words    929,589 / 73,760 / 82,430 tokens     Mikolov's files
//	LoadMNIST         784 pixels, 10  50,000 / 10,000 / 10,000 images      train file 0-49999 / 50000-59999 / t10k
//	LoadCNNQA         550 entities    380,298 / 3,924 / 3,198 queries      questions/{training,validation,test}
//
// Character corpora (CharCorpus) hold uint8 ids into a sorted table of code
// points; LoadLinux loads the stand-in from linux-substitute/ when the paper's
// linux_input.txt is absent, and says so in CharCorpus.Substitute. Each
// loader has a ...From(dir) form that reads an explicit directory.
//
// text8 and CNN QA are not available here. For smoke runs, Text8SampleFrom
// and QASampleFrom make small stand-ins in the same formats from the PTB
// text; they are labelled (Name/URL "...-sample-from-ptb", Substitute) and
// must never be reported as the real datasets.
//
// # Batches that survive a restart
//
// Training batches are random-access and deterministic: batch i of epoch e is
// a pure function of (seed, e, i), computed by the package's own SplitMix64
// generator (not math/rand, whose helper streams may change between Go
// releases). A training run killed at (e, i) and resumed there sees
// bit-identical batches, whatever happened in between.
//
//   - CharWindows: the paper's char-LM scheme. Each epoch draws an offset in
//     [0, T] and cuts the text into non-overlapping windows of T+1 characters,
//     visited in random order; Batch gives int32 [B, T+1] (inputs x[:, :T],
//     targets x[:, 1:]).
//   - CharEval: windows of T+1 consecutive characters overlapping by one, in
//     order, so every character after the first is predicted exactly once
//     (BPC over the whole split); the last window and batch are padded with a
//     mask.
//   - WordStreams: batchify into B streams, truncated-BPTT windows of T (35),
//     state carried between consecutive batches.
//   - MNISTBatches: [B, 784, 1] float32 pixels in [0,1] and int32 labels,
//     reshuffled every epoch, optionally in a fixed Permutation (permuted MNIST).
//   - QABatches: documents and questions bucketed by length and padded, with
//     lengths, masks, candidate masks over the entity ids and the answers.
//
// Batchers keep a reference to the corpus (no copy) and write each batch into
// caller-owned slices (BatchInto / BatchData); datasets/batches wraps them as
// tensors (batches.Char, batches.CharEval, batches.Word, batches.MNIST,
// batches.QA).
package datasets
