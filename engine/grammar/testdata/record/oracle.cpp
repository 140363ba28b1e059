// oracle: llama.cpp's grammar engine, through node-llama-cpp 3.21.1's prebuilt
// libllama, answering the questions the grammar tests compare against. Not
// part of the build or the tests; record.py compiles and runs it.
//
//   oracle parse < G.gbnf                    rules, symbols and print() of G, or ERROR
//   oracle schema < S.json                   json_schema_to_grammar(S), or ERROR: message
//   oracle masks VOCAB.gguf G.gbnf [ids]     allowed tokens before and after each id of a path
//   oracle walk VOCAB.gguf G.gbnf SEED N [full]
//                                            a random path of N tokens through G, with the
//                                            allowed tokens at each step (count, FNV-1a, ids)
#include "llama.h"
#include "llama-grammar.h"
#include "json.h"
#include "json-schema-to-grammar.h"
#include <cstdio>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>
#include <fstream>

static std::string slurp(std::istream & in) { std::stringstream ss; ss << in.rdbuf(); return ss.str(); }

int main(int argc, char ** argv) {
    if (argc < 2) return 2;
    std::string cmd = argv[1];
    if (cmd == "parse") {
        std::string g = slurp(std::cin);
        llama_grammar_parser p;
        if (!p.parse(g.c_str()) || p.rules.empty()) { printf("ERROR\n"); return 0; }
        p.print(stdout);
        // also binary form
        for (size_t i = 0; i < p.rules.size(); i++) {
            printf("#%zu:", i);
            for (auto e : p.rules[i]) printf(" %d:%u", (int)e.type, e.value);
            printf("\n");
        }
        for (auto & kv : p.symbol_ids) printf("@%s=%u\n", kv.first.c_str(), kv.second);
        auto * gr = llama_grammar_init_impl(nullptr, g.c_str(), "root", false, nullptr, 0, nullptr, 0);
        printf(gr ? "INIT OK\n" : "INIT FAIL\n");
        if (gr) llama_grammar_free_impl(gr);
        return 0;
    }
    if (cmd == "schema") {
        std::string s = slurp(std::cin);
        try {
            auto j = common_json::parse(s);
            std::string g = json_schema_to_grammar(j, true);
            fputs(g.c_str(), stdout);
        } catch (const std::exception & e) {
            printf("ERROR: %s\n", e.what());
        }
        return 0;
    }
    if (cmd == "masks") {
        // argv[2] vocab gguf, argv[3] grammar file, argv[4] token path (comma separated, may be empty)
        llama_backend_init();
        auto mp = llama_model_default_params();
        mp.vocab_only = true;
        llama_model * model = llama_model_load_from_file(argv[2], mp);
        if (!model) { fprintf(stderr, "load failed\n"); return 1; }
        const llama_vocab * vocab = llama_model_get_vocab(model);
        std::ifstream gf(argv[3]);
        std::string g = slurp(gf);
        llama_sampler * smp = llama_sampler_init_grammar(vocab, g.c_str(), "root");
        if (!smp) { printf("ERROR\n"); return 0; }
        std::vector<int> path;
        if (argc > 4) { std::stringstream ps(argv[4]); std::string t; while (std::getline(ps, t, ',')) if (!t.empty()) path.push_back(std::stoi(t)); }
        int n = llama_vocab_n_tokens(vocab);
        std::vector<llama_token_data> data(n);
        for (size_t step = 0; step <= path.size(); step++) {
            for (int i = 0; i < n; i++) data[i] = {i, 0.0f, 0.0f};
            llama_token_data_array arr = {data.data(), (size_t)n, -1, false};
            llama_sampler_apply(smp, &arr);
            printf("step %zu:", step);
            for (int i = 0; i < n; i++) if (data[i].logit != -INFINITY) printf(" %d", i);
            printf("\n");
            if (step < path.size()) {
                try { llama_sampler_accept(smp, path[step]); } catch (const std::exception & e) { printf("ACCEPT ERROR %s\n", e.what()); return 0; }
            }
        }
        return 0;
    }

    if (cmd == "walk") {
        // argv[2] vocab, argv[3] grammar file, argv[4] seed, argv[5] steps, argv[6] "full" to print ids
        llama_backend_init();
        auto mp = llama_model_default_params();
        mp.vocab_only = true;
        llama_model * model = llama_model_load_from_file(argv[2], mp);
        if (!model) { fprintf(stderr, "load failed\n"); return 1; }
        const llama_vocab * vocab = llama_model_get_vocab(model);
        std::ifstream gf(argv[3]);
        std::string g = slurp(gf);
        llama_sampler * smp = llama_sampler_init_grammar(vocab, g.c_str(), "root");
        if (!smp) { printf("ERROR\n"); return 0; }
        unsigned long long seed = std::stoull(argv[4]);
        int steps = std::stoi(argv[5]);
        bool full = argc > 6 && std::string(argv[6]) == "full";
        auto rnd = [&]() { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; return (unsigned)(seed >> 33); };
        int n = llama_vocab_n_tokens(vocab);
        std::vector<std::string> pieces(n);
        for (int i = 0; i < n; i++) {
            char buf[512]; int k = llama_token_to_piece(vocab, i, buf, sizeof buf, 0, true);
            pieces[i] = k > 0 ? std::string(buf, k) : std::string();
        }
        auto open_end = [&](const std::string & p) {
            // does p end inside a UTF-8 sequence, or start with a continuation byte?
            if (p.empty()) return false;
            if (((unsigned char)p[0] >> 6) == 2) return true;
            int i = (int)p.size() - 1, back = 0;
            while (i >= 0 && ((unsigned char)p[i] >> 6) == 2) { i--; back++; }
            if (i < 0) return true;
            unsigned char c = p[i]; int need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
            return back < need;
        };
        std::vector<llama_token_data> data(n);
        printf("{\"steps\":[");
        for (int step = 0; step < steps; step++) {
            for (int i = 0; i < n; i++) data[i] = {i, 0.0f, 0.0f};
            llama_token_data_array arr = {data.data(), (size_t)n, -1, false};
            llama_sampler_apply(smp, &arr);
            std::vector<int> allowed, odd, noneog;
            for (int i = 0; i < n; i++) if (data[i].logit != -INFINITY) {
                allowed.push_back(i);
                if (!llama_vocab_is_eog(vocab, i)) { noneog.push_back(i); if (open_end(pieces[i])) odd.push_back(i); }
            }
            // FNV-1a over the ids as decimal text joined by spaces
            unsigned long long h = 1469598103934665603ULL;
            for (size_t k = 0; k < allowed.size(); k++) {
                std::string t = (k ? " " : "") + std::to_string(allowed[k]);
                for (unsigned char c : t) { h ^= c; h *= 1099511628211ULL; }
            }
            int pick = -1;
            if (!noneog.empty()) {
                if (!odd.empty() && rnd() % 10 < 3) pick = odd[rnd() % odd.size()];
                else pick = noneog[rnd() % noneog.size()];
            }
            printf("%s{\"count\":%zu,\"fnv\":\"%016llx\"", step ? "," : "", allowed.size(), h);
            if (full) { printf(",\"allowed\":["); for (size_t k = 0; k < allowed.size(); k++) printf("%s%d", k ? "," : "", allowed[k]); printf("]"); }
            printf(",\"pick\":%d}", pick);
            if (pick < 0) break;
            try { llama_sampler_accept(smp, pick); } catch (const std::exception & e) { printf("],\"error\":\"accept\"}\n"); return 0; }
        }
        printf("]}\n");
        return 0;
    }
    return 2;
}
