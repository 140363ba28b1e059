package tensor

import (
	"slices"
	"testing"
)

func TestLevelFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		cpu  level
		want level
	}{
		{"", levelAVX512, levelAVX512},
		{"go", levelAVX512, levelGo},
		{"avx2", levelAVX512, levelAVX2},
		{"avx512", levelAVX512, levelAVX512},
		{"avx512", levelAVX2, levelAVX2}, // the CPU cannot: best available
		{"avx2", levelGo, levelGo},
		{"sse", levelAVX2, levelAVX2}, // unknown: default
	} {
		if got := levelFromEnv(tc.env, tc.cpu); got != tc.want {
			t.Errorf("levelFromEnv(%q, %s) = %s, want %s", tc.env, levelNames[tc.cpu], levelNames[got], levelNames[tc.want])
		}
	}
}

func TestSetLevel(t *testing.T) {
	levels := Levels()
	if levels[0] != "go" || !slices.Contains(levels, KernelLevel()) {
		t.Fatalf("Levels() = %v, KernelLevel() = %s", levels, KernelLevel())
	}
	before := KernelLevel()
	restore, err := SetLevel("go")
	if err != nil {
		t.Fatal(err)
	}
	if KernelLevel() != "go" {
		t.Errorf("after SetLevel(go), KernelLevel() = %s", KernelLevel())
	}
	restore()
	if KernelLevel() != before {
		t.Errorf("restore left level %s, want %s", KernelLevel(), before)
	}
	if _, err := SetLevel("neon"); err == nil {
		t.Error("SetLevel(neon) succeeded")
	}
	if len(levels) < int(numLevels) {
		if _, err := SetLevel(levelNames[len(levels)]); err == nil {
			t.Errorf("SetLevel(%s) succeeded on a CPU without it", levelNames[len(levels)])
		}
	}
}

func TestSupported(t *testing.T) {
	for _, typ := range allTypes {
		if !Supported(typ) {
			t.Errorf("%s not supported", typ)
		}
	}
	for _, typ := range []string{"Q8_1", "Q8_K", "IQ2_XXS", "I32", "F64"} {
		tt, _ := parseTypeForTest(typ)
		if Supported(tt) {
			t.Errorf("%s supported as a weight type", typ)
		}
	}
}
