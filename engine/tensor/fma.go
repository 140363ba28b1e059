package tensor

import "math"

// fma32 is x*y+z rounded once to float32, as the FMA instructions of the
// assembly kernels compute it. The float64 FMA is exact for the product and
// rounds the sum once to float64 before the conversion; the double rounding
// that can introduce is below what the tests compare.
func fma32(x, y, z float32) float32 {
	return float32(math.FMA(float64(x), float64(y), float64(z)))
}
