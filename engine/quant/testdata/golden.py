#!/usr/bin/env python3
"""Writes golden.txt: ggml's own quantize_row_*_ref / dequantize_row_* run
on the inputs of golden_test.go's goldenInputs (same generator, mirrored
below), called through ctypes in a prebuilt libggml-base.so (for example
the one shipped in the npm package node-llama-cpp). Nothing is built from
llama.cpp sources.

usage: golden.py /path/to/libggml-base.so [/path/to/libggml-cpu-haswell.so] > golden.txt
       golden.py LIB --dump DIR   (also writes each kind's raw outputs)

With the second library (an AVX2 build of ggml-cpu), the lines Q8_0_AVX and
Q8_1_AVX hold its own quantize_row_q8_0 and quantize_row_q8_1, which the CPU
backend runs on activations.
"""
import ctypes, hashlib, struct, sys, os

M64 = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def u24(self):
        return (self.next() >> 40) - (1 << 23)


def f32bits(v):
    return struct.unpack('<I', struct.pack('<f', v))[0]


KINDS = ["gauss", "uniform", "zero", "const", "negconst", "sparse", "huge",
         "tiny", "positive", "outliers", "grid", "subscales", "large", "hostile"]
BLOCKS_PER_KIND = 4


def kind_bits(kind, rng):
    """256*BLOCKS_PER_KIND float32 bit patterns of one kind."""
    out = []
    for j in range(256 * BLOCKS_PER_KIND):
        g = rng.u24() + rng.u24() + rng.u24() + rng.u24()
        u = rng.u24()
        if kind == "gauss":
            v = g * 2.0 ** -29
        elif kind == "uniform":
            v = u * 2.0 ** -23
        elif kind == "zero":
            v = 0.0
        elif kind == "const":
            v = 0.5
        elif kind == "negconst":
            v = -3.25
        elif kind == "sparse":
            v = u * 2.0 ** -20 if j % 32 == 7 else 0.0
        elif kind == "huge":
            v = u * 2.0 ** 90
        elif kind == "tiny":
            v = u * 2.0 ** -150
        elif kind == "positive":
            v = (u + (1 << 23)) * 2.0 ** -24
        elif kind == "outliers":
            v = g * 2.0 ** -29 * (64 if j % 50 == 3 else 1)
        elif kind == "grid":
            v = (u >> 20) * 0.25
        elif kind == "subscales":
            v = g * 2.0 ** (-29 - (j // 16) % 8)
        elif kind == "large":
            v = u * 2.0 ** -10
        elif kind == "hostile":
            v = g * 2.0 ** -29
            if j % 37 == 0:
                v = float('inf')
            if j % 43 == 0:
                v = float('-inf')
        out.append(f32bits(v))
        if kind == "hostile" and j % 41 == 0:
            out[-1] = 0x7FC00000 if j % 2 else 0xFFC00000
    return out


def inputs():
    rng = Rng(20240611)
    return [(k, kind_bits(k, rng)) for k in KINDS]


# name, ggml type id, block size, bytes per block
TYPES = [("F16", 256, 512), ("BF16", 256, 512),
         ("Q4_0", 32, 18), ("Q4_1", 32, 20), ("Q5_0", 32, 22), ("Q5_1", 32, 24),
         ("Q8_0", 32, 34), ("Q8_1", 32, 36), ("Q2_K", 256, 84), ("Q3_K", 256, 110),
         ("Q4_K", 256, 144), ("Q5_K", 256, 176), ("Q6_K", 256, 210), ("Q8_K", 256, 292)]


def main():
    lib = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
    dump = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--dump" else None
    cpu = ctypes.CDLL(sys.argv[2]) if len(sys.argv) == 3 else None
    for name, bs, tsize in TYPES:
        low = name.lower().replace("_k", "_K")
        if name == "F16":
            q = lib.ggml_fp32_to_fp16_row
            dq = lib.ggml_fp16_to_fp32_row
        elif name == "BF16":
            q = lib.ggml_fp32_to_bf16_row_ref
            dq = lib.ggml_bf16_to_fp32_row
        else:
            q = getattr(lib, "quantize_row_%s_ref" % low)
            dq = getattr(lib, "dequantize_row_%s" % low, None)
        for kind, bits in inputs():
            n = len(bits)
            src = (ctypes.c_uint32 * n)(*bits)
            nbytes = n // bs * tsize
            dst = (ctypes.c_uint8 * nbytes)()
            q(src, dst, ctypes.c_int64(n))
            qb = bytes(dst)
            line = "%s %s %s" % (name, kind, hashlib.sha256(qb).hexdigest())
            if dq is not None:
                out = (ctypes.c_uint32 * n)()
                dq(dst, out, ctypes.c_int64(n))
                db = bytes(out)
                line += " " + hashlib.sha256(db).hexdigest()
            else:
                db = None
                line += " -"
            print(line)
            if dump:
                os.makedirs(dump, exist_ok=True)
                open(os.path.join(dump, "%s.%s.q" % (name, kind)), "wb").write(qb)
                if db is not None:
                    open(os.path.join(dump, "%s.%s.dq" % (name, kind)), "wb").write(db)
    # conversions of every half and of a stride through all float32 bit patterns
    if cpu is not None:
        for name, tsize in [("q8_0", 34), ("q8_1", 36)]:
            for kind, bits in inputs():
                n = len(bits)
                src = (ctypes.c_uint32 * n)(*bits)
                dst = (ctypes.c_uint8 * (n // 32 * tsize))()
                getattr(cpu, "quantize_row_" + name)(src, dst, ctypes.c_int64(n))
                print("%s_AVX %s %s -" % (name.upper(), kind, hashlib.sha256(bytes(dst)).hexdigest()))
    # Row functions on raw bits: scalar calls would pass through Python
    # floats and lose NaN payloads.
    src = (ctypes.c_uint16 * 65536)(*range(65536))
    out = (ctypes.c_uint32 * 65536)()
    lib.ggml_fp16_to_fp32_row(src, out, ctypes.c_int64(65536))
    print("fp16_to_fp32 all %s -" % hashlib.sha256(bytes(out)).hexdigest())
    pats = [(i * 65521 + (i >> 3)) & 0xFFFFFFFF for i in range(1 << 17)] + \
        [0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x00000001, 0x80000001,
         0x33000000, 0x33000001, 0x387FC000, 0x38800000, 0x477FE000, 0x477FF000, 0x477FEFFF]
    src = (ctypes.c_uint32 * len(pats))(*pats)
    o16 = (ctypes.c_uint16 * len(pats))()
    lib.ggml_fp32_to_fp16_row(src, o16, ctypes.c_int64(len(pats)))
    print("fp32_to_fp16 stride %s -" % hashlib.sha256(bytes(o16)).hexdigest())
    lib.ggml_fp32_to_bf16_row_ref(src, o16, ctypes.c_int64(len(pats)))
    print("fp32_to_bf16 stride %s -" % hashlib.sha256(bytes(o16)).hexdigest())


if __name__ == "__main__":
    main()
