package libm

// ExpfVector is what a vector kernel needs to compute Expf's operations
// lane by lane, bit for bit (tensor's online softmax does): the table, the
// constants of the common path in its order, and the bound below which
// Expf is 0 (an argument of at most 0 meets no other special case whose
// result the common path does not already give: see tensor's softmax).
// Assembly reads it at fixed offsets: keep the layout.
type ExpfVector struct {
	Tab                             [expN]uint64
	Shift, InvLn2N, C0, C1, C2, One float64
	Underflow, SubnormMin           float32
}

var expfVector = ExpfVector{
	Tab: expTab, Shift: expShift, InvLn2N: expInvLn2N, C0: expC0, C1: expC1, C2: expC2, One: 1,
	Underflow: expUnderflow,
}

// ExpfVectorData returns Expf's table and constants for vector kernels.
// The caller must not modify them.
func ExpfVectorData() *ExpfVector { return &expfVector }
