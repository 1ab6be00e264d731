//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 kernels of signmat.go. For each block of 8 columns, for each word
// (8 lanes x 10 groups), shift the lanes right by 3 bits per group and let
// VPERMPS/VPERMD pick table_g[lane bits & 7] for all 8 columns at once, then
// add: one permute and one add per 3 inputs x 8 columns, no multiplication.
// Each table is loaded into a register first: on Zen 3, VPERMPS with its
// table in memory measured about twice as slow. Four accumulators hide the
// add latency. The two kernels differ only in the element type (float32:
// VPERMPS/VADDPS, int32: VPERMD/VPADDD).

// func lanesFloat32AVX2(code *uint32, tables *float32, out *float32, blocks, words int)
TEXT ·lanesFloat32AVX2(SB), NOSPLIT, $0-40
	MOVQ code+0(FP), SI
	MOVQ tables+8(FP), DX
	MOVQ out+16(FP), R8
	MOVQ blocks+24(FP), R9
	MOVQ words+32(FP), R10
block:
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ DX, DI
	MOVQ R10, CX
word:
	VMOVDQU (SI), Y0 // 8 columns x 10 groups of 3 sign bits
	VMOVDQU 0(DI), Y2 // table of group 0
	VPERMPS Y2, Y0, Y1 // Y1[l] = table[Y0[l] & 7]
	VADDPS Y1, Y8, Y8
	VMOVDQU 32(DI), Y4
	VPSRLD $3, Y0, Y3
	VPERMPS Y4, Y3, Y3
	VADDPS Y3, Y9, Y9
	VMOVDQU 64(DI), Y6
	VPSRLD $6, Y0, Y5
	VPERMPS Y6, Y5, Y5
	VADDPS Y5, Y10, Y10
	VMOVDQU 96(DI), Y2
	VPSRLD $9, Y0, Y1
	VPERMPS Y2, Y1, Y1
	VADDPS Y1, Y11, Y11
	VMOVDQU 128(DI), Y4
	VPSRLD $12, Y0, Y3
	VPERMPS Y4, Y3, Y3
	VADDPS Y3, Y8, Y8
	VMOVDQU 160(DI), Y6
	VPSRLD $15, Y0, Y5
	VPERMPS Y6, Y5, Y5
	VADDPS Y5, Y9, Y9
	VMOVDQU 192(DI), Y2
	VPSRLD $18, Y0, Y1
	VPERMPS Y2, Y1, Y1
	VADDPS Y1, Y10, Y10
	VMOVDQU 224(DI), Y4
	VPSRLD $21, Y0, Y3
	VPERMPS Y4, Y3, Y3
	VADDPS Y3, Y11, Y11
	VMOVDQU 256(DI), Y6
	VPSRLD $24, Y0, Y5
	VPERMPS Y6, Y5, Y5
	VADDPS Y5, Y8, Y8
	VMOVDQU 288(DI), Y2
	VPSRLD $27, Y0, Y1
	VPERMPS Y2, Y1, Y1
	VADDPS Y1, Y9, Y9
	ADDQ $32, SI
	ADDQ $320, DI
	DECQ CX
	JNZ word
	VADDPS Y8, Y9, Y8
	VADDPS Y10, Y11, Y10
	VADDPS Y8, Y10, Y8
	VMOVDQU Y8, (R8)
	ADDQ $32, R8
	DECQ R9
	JNZ block
	VZEROUPPER
	RET

// func lanesInt32AVX2(code *uint32, tables *int32, out *int32, blocks, words int)
TEXT ·lanesInt32AVX2(SB), NOSPLIT, $0-40
	MOVQ code+0(FP), SI
	MOVQ tables+8(FP), DX
	MOVQ out+16(FP), R8
	MOVQ blocks+24(FP), R9
	MOVQ words+32(FP), R10
block:
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	MOVQ DX, DI
	MOVQ R10, CX
word:
	VMOVDQU (SI), Y0 // 8 columns x 10 groups of 3 sign bits
	VMOVDQU 0(DI), Y2 // table of group 0
	VPERMD Y2, Y0, Y1 // Y1[l] = table[Y0[l] & 7]
	VPADDD Y1, Y8, Y8
	VMOVDQU 32(DI), Y4
	VPSRLD $3, Y0, Y3
	VPERMD Y4, Y3, Y3
	VPADDD Y3, Y9, Y9
	VMOVDQU 64(DI), Y6
	VPSRLD $6, Y0, Y5
	VPERMD Y6, Y5, Y5
	VPADDD Y5, Y10, Y10
	VMOVDQU 96(DI), Y2
	VPSRLD $9, Y0, Y1
	VPERMD Y2, Y1, Y1
	VPADDD Y1, Y11, Y11
	VMOVDQU 128(DI), Y4
	VPSRLD $12, Y0, Y3
	VPERMD Y4, Y3, Y3
	VPADDD Y3, Y8, Y8
	VMOVDQU 160(DI), Y6
	VPSRLD $15, Y0, Y5
	VPERMD Y6, Y5, Y5
	VPADDD Y5, Y9, Y9
	VMOVDQU 192(DI), Y2
	VPSRLD $18, Y0, Y1
	VPERMD Y2, Y1, Y1
	VPADDD Y1, Y10, Y10
	VMOVDQU 224(DI), Y4
	VPSRLD $21, Y0, Y3
	VPERMD Y4, Y3, Y3
	VPADDD Y3, Y11, Y11
	VMOVDQU 256(DI), Y6
	VPSRLD $24, Y0, Y5
	VPERMD Y6, Y5, Y5
	VPADDD Y5, Y8, Y8
	VMOVDQU 288(DI), Y2
	VPSRLD $27, Y0, Y1
	VPERMD Y2, Y1, Y1
	VPADDD Y1, Y9, Y9
	ADDQ $32, SI
	ADDQ $320, DI
	DECQ CX
	JNZ word
	VPADDD Y8, Y9, Y8
	VPADDD Y10, Y11, Y10
	VPADDD Y8, Y10, Y8
	VMOVDQU Y8, (R8)
	ADDQ $32, R8
	DECQ R9
	JNZ block
	VZEROUPPER
	RET
