#!/usr/bin/env python3
"""Writes mixes.golden: what llama.cpp's own llama_model_quantize (called
through ctypes in a prebuilt libllama, such as the one in the npm package
node-llama-cpp; nothing is built from llama.cpp sources) makes of the small
models quantize_test.go writes, for every type the test covers.

    LLMSQL_WRITE_MIX_MODELS=/tmp/mix go test ./cmd/llmsql -run TestQuantizeMixes
    python3 quantize_golden.py LIBDIR /tmp/mix > mixes.golden

LIBDIR holds libllama*.so and libggml*.so. For each model and type the
output has a line "= MODEL MIX SHA256-OF-FILE", then one line per tensor,
"NAME TYPE" and the first 16 hex digits of the sha256 of its data.
"""
import ctypes, glob, hashlib, os, struct, sys, tempfile

MODELS = ["gqa4-f16", "tied-f32", "gqa8-bf16"]
MIXES = [("F32", 0), ("F16", 1), ("BF16", 32), ("Q8_0", 7), ("Q4_0", 2), ("Q4_1", 3),
         ("Q5_0", 8), ("Q5_1", 9), ("Q2_K", 10), ("Q3_K_S", 11), ("Q3_K_M", 12),
         ("Q3_K_L", 13), ("Q4_K_S", 14), ("Q4_K_M", 15), ("Q5_K_S", 16), ("Q5_K_M", 17),
         ("Q6_K", 18)]
TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
         6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 10: ("Q2_K", 256, 84),
         11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
         14: ("Q6_K", 256, 210), 30: ("BF16", 1, 2)}


def tensors(path):
    """(name, type name, data) for each tensor of a GGUF v3 file."""
    b = open(path, "rb").read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, b, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal off
        n = take("Q")
        s = b[off:off + n].decode()
        off += n
        return s

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(sizes[t])

    assert b[:4] == b"GGUF"
    off = 4
    take("I")
    nt, nkv = take("Q"), take("Q")
    align = 32
    for _ in range(nkv):
        k = string()
        v = value(take("I"))
        if k == "general.alignment":
            align = v
    infos = []
    for _ in range(nt):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    data = (off + align - 1) // align * align
    out = []
    for name, dims, t, o in infos:
        tname, bs, ts = TYPES[t]
        n = 1
        for d in dims:
            n *= d
        start = data + o
        out.append((name, tname, b[start:start + n // bs * ts]))
    return out, b


def main():
    libdir, models = sys.argv[1], sys.argv[2]
    os.chdir(libdir)  # libggml finds its CPU backends beside itself
    lib = ctypes.CDLL(glob.glob(os.path.join(libdir, "libllama*.so"))[0], mode=ctypes.RTLD_GLOBAL)

    class Params(ctypes.Structure):  # only nthread and ftype, the first two fields, are set
        _fields_ = [("raw", ctypes.c_uint8 * 512)]

    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    lib.llama_backend_init()
    tmp = tempfile.mkdtemp()
    for model in MODELS:
        src = os.path.join(models, model + ".gguf")
        for mix, ftype in MIXES:
            dst = os.path.join(tmp, "out.gguf")
            p = lib.llama_model_quantize_default_params()
            struct.pack_into("<ii", p.raw, 0, 2, ftype)
            if lib.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p)) != 0:
                sys.exit("llama_model_quantize failed for %s %s" % (model, mix))
            ts, whole = tensors(dst)
            print("=", model, mix, hashlib.sha256(whole).hexdigest())
            for name, tname, data in ts:
                print(name, tname, hashlib.sha256(data).hexdigest()[:16])
            os.remove(dst)


if __name__ == "__main__":
    main()
