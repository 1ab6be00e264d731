package budget

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Budget
		wantErr bool
	}{
		{"smoke", Smoke, false},
		{" Quick ", Quick, false},
		{"PAPER", Paper, false},
		{"cpu", CPU, false},
		{"", Default, false},
		{"fast", "", true},
		{"full", "", true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "smoke")
	if b, err := FromEnv(); err != nil || b != Smoke {
		t.Fatalf("FromEnv() = %q, %v", b, err)
	}
	t.Setenv(EnvVar, "bogus")
	if _, err := FromEnv(); err == nil {
		t.Fatal("FromEnv accepted RBT_BUDGET=bogus")
	}
}

func TestPick(t *testing.T) {
	for b, want := range map[Budget]int{Smoke: 1, Quick: 2, CPU: 3, Paper: 4, "other": 2} {
		if got := Pick(b, 1, 2, 3, 4); got != want {
			t.Errorf("Pick(%q) = %d, want %d", b, got, want)
		}
	}
}
