#!/usr/bin/env python3
"""Re-records the grammar goldens with llama.cpp itself.

Needs: g++, node-llama-cpp@3.21.1 installed (its prebuilt libllama and
libllama-common), the llama.cpp source it was built from (for headers and its
tests: `git clone /tmp/peer/node_modules/node-llama-cpp/llama/gitRelease.bundle`),
and ../shared beside the checkout. Run from this directory:

    python3 record.py [--llama /tmp/native/llama.cpp] [--peer /tmp/peer] [--shared ../../../../../shared]

It writes, in the directory above:
  llama_parse.json        what llama.cpp's parser makes of ~190 grammars (its parser and
                          integration tests' grammars, its grammars/ folder, the grammars its
                          JSON-schema converter writes for its own tests, and cases of ours)
  llama_integration.json  test-grammar-integration.cpp's cases: grammar or schema, strings
                          that must match and strings that must not
  llama_masks.json        random walks through grammars on real vocabularies: the tokens
                          llama.cpp's grammar sampler allows at every step
and ../../jsonschema/testdata/llama_schema.json: test-json-schema-to-grammar.cpp's
cases with the grammar llama.cpp's converter writes.
"""
import argparse, glob, json, os, re, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument('--llama', default='/tmp/native/llama.cpp')
ap.add_argument('--peer', default='/tmp/peer')
ap.add_argument('--shared', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../../../shared'))
args = ap.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.dirname(here)
N = args.llama
L = args.peer + '/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64'
work = tempfile.mkdtemp(prefix='grammar-record-')


def build(src, exe):
    cmd = ['g++', '-O1', '-std=c++17', '-I' + here, '-I' + N + '/include', '-I' + N + '/src', '-I' + N + '/common',
           '-I' + N + '/ggml/include', '-I' + N + '/vendor', src, '-o', exe, '-L' + L, '-l:libllama.v0.4.0.so',
           '-l:libllama-common.so', '-l:libggml.v0.4.0.so', '-l:libggml-base.so', '-Wl,-rpath,' + L]
    subprocess.run(cmd, check=True)


def write_lines(path, entries):
    with open(path, 'w') as f:
        f.write('[\n' + ',\n'.join(json.dumps(e, ensure_ascii=False, separators=(',', ':')) for e in entries) + '\n]\n')


oracle = work + '/oracle'
build(here + '/oracle.cpp', oracle)

# test-grammar-integration.cpp, with its test functions printing their cases.
src = open(N + '/tests/test-grammar-integration.cpp').read()
src = src.replace('#include <cassert>', '#include <cassert>\n#include "dumphelp.h"', 1)
src = src.replace('static bool test_build_grammar_fails(const std::string & grammar_str) {',
    'static bool test_build_grammar_fails_orig(const std::string & grammar_str);\n'
    'static bool test_build_grammar_fails(const std::string & grammar_str) {\n'
    '    bool r = test_build_grammar_fails_orig(grammar_str);\n'
    '    printf("{\\"kind\\":\\"build\\",\\"grammar\\":%s,\\"fails\\":%s}\\n", jstr(grammar_str).c_str(), r ? "true" : "false");\n'
    '    return r;\n}\n'
    'static bool test_build_grammar_fails_orig(const std::string & grammar_str) {', 1)
sig = ('static void test(const std::string & test_desc, const std::string & grammar_str, '
       'const std::vector<std::string> & passing_strings, const std::vector<std::string> & failing_strings) {')
assert sig in src
src = src.replace(sig, sig.replace('static void test(', 'static void test_orig(')[:-2] + ';\n' + sig +
    '\n    printf("{\\"kind\\":\\"grammar\\",\\"desc\\":%s,\\"grammar\\":%s,\\"pass\\":%s,\\"fail\\":%s}\\n", jstr(test_desc).c_str(), '
    'jstr(grammar_str).c_str(), jlist(passing_strings).c_str(), jlist(failing_strings).c_str());\n'
    '    test_orig(test_desc, grammar_str, passing_strings, failing_strings);\n}\n' +
    sig.replace('static void test(', 'static void test_orig('), 1)
sig2 = ('static void test_schema(const std::string & test_desc, const std::string & schema_str, '
        'const std::vector<std::string> & passing_strings, const std::vector<std::string> & failing_strings) {')
assert sig2 in src
src = src.replace(sig2, sig2 +
    '\n    printf("{\\"kind\\":\\"schema\\",\\"desc\\":%s,\\"schema\\":%s,\\"grammar\\":%s,\\"pass\\":%s,\\"fail\\":%s}\\n", '
    'jstr(test_desc).c_str(), jstr(schema_str).c_str(), jstr(json_schema_to_grammar(json::parse(schema_str), true)).c_str(), '
    'jlist(passing_strings).c_str(), jlist(failing_strings).c_str());\n'
    '    test_orig(test_desc + ". Schema: " + schema_str, json_schema_to_grammar(json::parse(schema_str), true), passing_strings, failing_strings);\n'
    '    return;\n', 1)
open(work + '/integ.cpp', 'w').write(src)
subprocess.run(['g++', '-O1', '-std=c++17', '-I' + here, '-I' + N + '/include', '-I' + N + '/src', '-I' + N + '/common',
                '-I' + N + '/ggml/include', '-I' + N + '/vendor', '-I' + N + '/tests', work + '/integ.cpp', N + '/src/unicode.cpp',
                '-o', work + '/integ', '-L' + L, '-l:libllama.v0.4.0.so', '-l:libllama-common.so', '-l:libggml.v0.4.0.so',
                '-l:libggml-base.so', '-Wl,-rpath,' + L], check=True)
r = subprocess.run([work + '/integ'], capture_output=True, check=True)
integration = [json.loads(l) for l in r.stdout.decode().split('\n') if l.startswith('{')]
write_lines(out_dir + '/llama_integration.json', integration)

# test-json-schema-to-grammar.cpp, with every case printed with llama.cpp's output.
src = open(N + '/tests/test-json-schema-to-grammar.cpp').read()
src = src.replace('#include <cassert>', '#include <cassert>\n#include "dumphelp.h"', 1)
assert src.count('        runner(tc);') == 1
src = src.replace('        runner(tc);', '        dump_tc(tc);\n        runner(tc);')
old = '            fprintf(stderr, "- %s\\n", tc.name.c_str());\n            try {'
assert src.count(old) == 1
src = src.replace(old, '            fprintf(stderr, "- %s\\n", tc.name.c_str());\n            dump_tc(tc);\n            try {')
dump = r'''
static void dump_tc(const TestCase & tc) {
    std::string actual, err; bool ok = true;
    try { actual = json_schema_to_grammar(common_json::parse(tc.schema), true); } catch (const std::exception & e) { ok = false; err = e.what(); }
    printf("{\"name\":%s,\"schema\":%s,\"success\":%s,\"expected\":%s,\"ok\":%s,\"grammar\":%s,\"error\":%s}\n",
        jstr(tc.name).c_str(), jstr(tc.schema).c_str(), tc.expected_status == SUCCESS ? "true" : "false",
        jstr(tc.expected_grammar).c_str(), ok ? "true" : "false", jstr(actual).c_str(), jstr(err).c_str());
}
'''
src = src.replace('static void write(const std::string & file', dump + 'static void write(const std::string & file', 1)
open(work + '/schema.cpp', 'w').write(src)
build(work + '/schema.cpp', work + '/schema')
r = subprocess.run([work + '/schema'], capture_output=True, check=True, env={**os.environ, 'LLAMA_SKIP_TESTS_SLOW_ON_EMULATOR': '1'})
schema_cases, seen = [], set()
for l in r.stdout.decode().split('\n'):
    if not l.startswith('{'):
        continue
    d = json.loads(l)
    if (d['name'], d['schema']) in seen:
        continue
    seen.add((d['name'], d['schema']))
    del d['expected']  # the test's own expectation; 'grammar' is what the converter wrote
    schema_cases.append(d)
os.makedirs(os.path.join(out_dir, '../../jsonschema/testdata'), exist_ok=True)
write_lines(os.path.join(out_dir, '../../jsonschema/testdata/llama_schema.json'), schema_cases)

# The parser corpus.
corpus = []
src = open(N + '/tests/test-grammar-parser.cpp').read()
for m in re.finditer(r'(verify_parsing|verify_failure)\(R"""\((.*?)\)"""', src, re.S):
    corpus.append(('test-grammar-parser ' + m.group(1), m.group(2)))
for d in integration:
    corpus.append(('test-grammar-integration ' + d['kind'], d['grammar']))
for d in schema_cases:
    if d['ok']:
        corpus.append(('test-json-schema-to-grammar ' + d['name'], d['grammar']))
for f in sorted(glob.glob(N + '/grammars/*.gbnf')):
    corpus.append(('grammars/' + os.path.basename(f), open(f).read()))
for g in json.load(open(here + '/parse_cases.json')):
    corpus.append(('llmsql', g))
parsed, seen = [], set()
for source, g in corpus:
    if g in seen:
        continue
    seen.add(g)
    r = subprocess.run([oracle, 'parse'], input=g.encode(), capture_output=True)
    lines = r.stdout.decode().split('\n')
    e = {'source': source, 'grammar': g}
    if lines[0] == 'ERROR':
        e['ok'] = False
        e['llama_error'] = r.stderr.decode().split('\n')[0]
    else:
        rules, syms, printed, init = [], {}, [], None
        for l in lines:
            if re.match(r'#\d+:', l):
                rules.append([int(x) for p in l.split(': ', 1)[1].split() for x in p.split(':')] if ': ' in l else [])
            elif l.startswith('@'):
                k, v = l[1:].rsplit('=', 1)
                syms[k] = int(v)
            elif l.startswith('INIT '):
                init = l == 'INIT OK'
            else:
                printed.append(l)
        e['ok'] = init
        if not init:
            e['llama_error'] = r.stderr.decode().strip().split('\n')[-1]
        e['symbols'], e['rules'], e['print'] = syms, rules, '\n'.join(printed).rstrip('\n') + '\n'
    parsed.append(e)
write_lines(out_dir + '/llama_parse.json', parsed)

# Random walks on real vocabularies.
S = args.shared
vocabs = [('stories260K', S + '/models/stories260K.gguf', 40, True),
          ('llama-spm', S + '/vocab/ggml-vocab-llama-spm.gguf', 40, False),
          ('gpt-2', S + '/vocab/ggml-vocab-gpt-2.gguf', 30, False),
          ('qwen3', S + '/vocab/ggml-vocab-qwen3.gguf', 25, False)]
gfiles = sorted(glob.glob(here + '/grammars/*.gbnf')) + [N + '/grammars/' + f for f in
          ('arithmetic.gbnf', 'c.gbnf', 'chess.gbnf', 'english.gbnf', 'japanese.gbnf', 'json.gbnf', 'list.gbnf')]
walks = []
for vname, vpath, steps, full in vocabs:
    for g in sorted(gfiles, key=os.path.basename):
        for seed in (1, 2):
            r = subprocess.run([oracle, 'walk', vpath, g, str(seed), str(steps)] + (['full'] if full else []), capture_output=True, check=True)
            d = json.loads(r.stdout)
            for s in d['steps']:
                if 'allowed' in s and s['count'] > 40:
                    del s['allowed']
            walks.append({'vocab': vname, 'grammar': open(g).read(), 'name': os.path.basename(g), 'seed': seed, **d})
            print(vname, os.path.basename(g), seed, len(d['steps']), file=sys.stderr)
write_lines(out_dir + '/llama_masks.json', walks)
