//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 kernels of signmat.go. For each block of 8 columns, for each word
// (8 lanes x 10 groups), shift the lanes right by 3 bits per group and let
// VPERMPS/VPERMD pick table_g[lane bits & 7] for all 8 columns at once, then
// add: one permute and one add per 3 inputs x 8 columns, no multiplication.
// Each table is loaded into a register first: on Zen 3, VPERMPS with its
// table in memory measured about twice as slow. Four accumulators hide the
// add latency. One macro writes both kernels; they differ only in the
// element type (float32: VPERMPS/VADDPS, int32: VPERMD/VPADDD).

// GROUP(s, tmp, tab, acc): group s of the word in Y0 (s > 0).
#define GROUP(PERM, ADD, s, tmp, tab, acc) \
	VMOVDQU (32*s)(DI), tab; \
	VPSRLD $(3*s), Y0, tmp; \
	PERM tab, tmp, tmp; \
	ADD tmp, acc, acc

#define KERNEL(PERM, ADD, ZERO) \
	MOVQ code+0(FP), SI; \
	MOVQ tables+8(FP), DX; \
	MOVQ out+16(FP), R8; \
	MOVQ blocks+24(FP), R9; \
	MOVQ words+32(FP), R10; \
block: \
	ZERO Y8, Y8, Y8; \
	ZERO Y9, Y9, Y9; \
	ZERO Y10, Y10, Y10; \
	ZERO Y11, Y11, Y11; \
	MOVQ DX, DI; \
	MOVQ R10, CX; \
word: \
	VMOVDQU (SI), Y0; \
	VMOVDQU (DI), Y2; \
	PERM Y2, Y0, Y1; \
	ADD Y1, Y8, Y8; \
	GROUP(PERM, ADD, 1, Y3, Y4, Y9); \
	GROUP(PERM, ADD, 2, Y5, Y6, Y10); \
	GROUP(PERM, ADD, 3, Y1, Y2, Y11); \
	GROUP(PERM, ADD, 4, Y3, Y4, Y8); \
	GROUP(PERM, ADD, 5, Y5, Y6, Y9); \
	GROUP(PERM, ADD, 6, Y1, Y2, Y10); \
	GROUP(PERM, ADD, 7, Y3, Y4, Y11); \
	GROUP(PERM, ADD, 8, Y5, Y6, Y8); \
	GROUP(PERM, ADD, 9, Y1, Y2, Y9); \
	ADDQ $32, SI; \
	ADDQ $320, DI; \
	DECQ CX; \
	JNZ word; \
	ADD Y8, Y9, Y8; \
	ADD Y10, Y11, Y10; \
	ADD Y8, Y10, Y8; \
	VMOVDQU Y8, (R8); \
	ADDQ $32, R8; \
	DECQ R9; \
	JNZ block; \
	VZEROUPPER; \
	RET

// func lanesFloat32AVX2(code *uint32, tables *float32, out *float32, blocks, words int)
TEXT ·lanesFloat32AVX2(SB), NOSPLIT, $0-40
	KERNEL(VPERMPS, VADDPS, VXORPS)

// func lanesInt32AVX2(code *uint32, tables *int32, out *int32, blocks, words int)
TEXT ·lanesInt32AVX2(SB), NOSPLIT, $0-40
	KERNEL(VPERMD, VPADDD, VPXOR)
