package tensor

import (
	"slices"
	"testing"
)

// TestStartsAtBest: nothing but SetLevel chooses the level (the package
// reads no environment), and "" goes back to the CPU's best.
func TestStartsAtBest(t *testing.T) {
	best := levelNames[cpuLevel]
	restore, err := SetLevel("go")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	if _, err := SetLevel(""); err != nil || KernelLevel() != best {
		t.Fatalf(`SetLevel("") = %v, level %s, want %s`, err, KernelLevel(), best)
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
