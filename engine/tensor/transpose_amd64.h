// TRANSPOSE8 transposes the 8x8 float32 block in Y0-Y7 (row i in Yi) into
// Y8-Y15 (Y8+i holds column i of rows 0-7), using Y0-Y7 as scratch: the
// step that lets a chain of ordered adds run eight rows (or positions)
// side by side, one vector per column (scoresF16Small8AVX512,
// rmsSums8AVX512).
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y14; \
	VUNPCKHPS Y7, Y6, Y15; \
	VSHUFPS $0x44, Y10, Y8, Y0; \
	VSHUFPS $0xee, Y10, Y8, Y1; \
	VSHUFPS $0x44, Y11, Y9, Y2; \
	VSHUFPS $0xee, Y11, Y9, Y3; \
	VSHUFPS $0x44, Y14, Y12, Y4; \
	VSHUFPS $0xee, Y14, Y12, Y5; \
	VSHUFPS $0x44, Y15, Y13, Y6; \
	VSHUFPS $0xee, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// ADDCOLS8 widens the eight column vectors Y8-Y15 to float64 in Z18 and
// adds them to the sums in Z17, column 0 first: each lane's chain of adds
// in column order.
#define ADDCOLS8 \
	VCVTPS2PD Y8, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y9, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y10, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y11, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y12, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y13, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y14, Z18; \
	VADDPD Z18, Z17, Z17; \
	VCVTPS2PD Y15, Z18; \
	VADDPD Z18, Z17, Z17

// CVTROWS8 widens the first eight F16 values of eight rows into Y0-Y7 (row
// i in Yi): the rows at base, BX bytes apart, with R12 = 3*BX, R13 = 5*BX
// and R10 = 7*BX (TRANSPOSE8's input in scoresF16Small8AVX512 and
// scoresF16Heads8AVX512).
#define CVTROWS8(base) \
	VCVTPH2PS (base), Y0; \
	VCVTPH2PS (base)(BX*1), Y1; \
	VCVTPH2PS (base)(BX*2), Y2; \
	VCVTPH2PS (base)(R12*1), Y3; \
	VCVTPH2PS (base)(BX*4), Y4; \
	VCVTPH2PS (base)(R13*1), Y5; \
	VCVTPH2PS (base)(R12*2), Y6; \
	VCVTPH2PS (base)(R10*1), Y7
