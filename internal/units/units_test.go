package units

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1024", 1024, false},
		{"256MiB", 256 << 20, false},
		{"256 mib", 256 << 20, false},
		{"1.5GiB", 3 << 29, false},
		{"64k", 64 << 10, false},
		{"1MB", 1_000_000, false},
		{"2kb", 2000, false},
		{"3g", 3 << 30, false},
		{"1GB", 1e9, false},
		{"2T", 2 << 40, false},
		{"1tb", 1e12, false},
		{"512 B", 512, false},
		{"0", 0, false},
		{"12 parsecs", 0, true},
		{"-1MiB", 0, true},
		{"", 0, true},
		{"MiB", 0, true},
		{"1e99GiB", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1 << 20: "1 MiB", 3 << 19: "1.5 MiB", -(2 << 30): "-2 GiB", 300 << 20: "300 MiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
