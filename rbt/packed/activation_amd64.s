//go:build amd64 && !purego

#include "textflag.h"

// Constants of exp32 (activation.go), eight copies each, so that every
// vector operation below is the scalar code's operation, in the same order:
// the results are bit-identical to sigmoid32 and tanh32.
#define C8(off, v) DATA consts<>+(off+0)(SB)/4, v; DATA consts<>+(off+4)(SB)/4, v; DATA consts<>+(off+8)(SB)/4, v; DATA consts<>+(off+12)(SB)/4, v; DATA consts<>+(off+16)(SB)/4, v; DATA consts<>+(off+20)(SB)/4, v; DATA consts<>+(off+24)(SB)/4, v; DATA consts<>+(off+28)(SB)/4, v

C8(0, $0x42b00000)   // expMax = 88
C8(32, $0xc2ae0000)  // expMin = -87
C8(64, $0x3fb8aa3b)  // log2e
C8(96, $0x3f000000)  // 0.5
C8(128, $0x80000000) // sign bit
C8(160, $0x3f317200) // ln2Hi
C8(192, $0x35bfbe8e) // ln2Lo
C8(224, $0x3f800000) // 1
C8(256, $0x3e2aaaab) // 1/6
C8(288, $0x3d2aaaab) // 1/24
C8(320, $0x3c088889) // 1/120
C8(352, $0x3ab60b61) // 1/720
C8(384, $127)        // exponent bias (int32)
GLOBL consts<>(SB), RODATA|NOPTR, $416

// func activateAVX2(x *float32, n int, scale, a, b float32)
//
// For n (a multiple of 8) values in place: e = exp32(scale*x),
// x = a + b/(1+e). Sigmoid is (scale, a, b) = (-1, 0, 1), tanh (2, 1, -2).
TEXT ·activateAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS scale+16(FP), Y13
	VBROADCASTSS a+20(FP), Y14
	VBROADCASTSS b+24(FP), Y15
	VMOVUPS consts<>+0(SB), Y10  // expMax
	VMOVUPS consts<>+32(SB), Y11 // expMin
	VMOVUPS consts<>+224(SB), Y12 // 1
	SHRQ $3, CX
	JZ done

loop:
	VMOVUPS (DI), Y0
	VMULPS Y13, Y0, Y0               // v = scale*x (exact: scale is -1 or 2)
	VMINPS Y0, Y10, Y0               // min(88, v); a NaN v passes through
	VMAXPS Y0, Y11, Y0               // max(-87, v)
	VMULPS consts<>+64(SB), Y0, Y1   // t = v*log2e
	VANDPS consts<>+128(SB), Y1, Y2  // sign of t
	VORPS consts<>+96(SB), Y2, Y2    // +-0.5
	VADDPS Y2, Y1, Y1                // t +- 0.5
	VCVTTPS2DQ Y1, Y1                // k = trunc: round half away from zero
	VCVTDQ2PS Y1, Y2                 // kf
	VMULPS consts<>+160(SB), Y2, Y3  // kf*ln2Hi
	VSUBPS Y3, Y0, Y3                // v - kf*ln2Hi
	VMULPS consts<>+192(SB), Y2, Y4  // kf*ln2Lo
	VSUBPS Y4, Y3, Y3                // r
	VMULPS consts<>+352(SB), Y3, Y4  // Horner: r/720
	VADDPS consts<>+320(SB), Y4, Y4  // 1/120 + ..
	VMULPS Y3, Y4, Y4
	VADDPS consts<>+288(SB), Y4, Y4  // 1/24 + ..
	VMULPS Y3, Y4, Y4
	VADDPS consts<>+256(SB), Y4, Y4  // 1/6 + ..
	VMULPS Y3, Y4, Y4
	VADDPS consts<>+96(SB), Y4, Y4   // 1/2 + ..
	VMULPS Y3, Y4, Y4
	VADDPS Y12, Y4, Y4               // 1 + ..
	VMULPS Y3, Y4, Y4
	VADDPS Y12, Y4, Y4               // p = 1 + ..
	VPADDD consts<>+384(SB), Y1, Y1  // k + 127
	VPSLLD $23, Y1, Y1               // 2^k as float32 bits
	VMULPS Y1, Y4, Y4                // e = p * 2^k
	VADDPS Y12, Y4, Y4               // 1 + e
	VDIVPS Y4, Y12, Y4               // d = 1/(1+e)
	VMULPS Y15, Y4, Y4               // b*d
	VADDPS Y14, Y4, Y4               // a + b*d
	VMOVUPS Y4, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET
