// Helpers the transformed llama.cpp tests use to write their cases as JSON lines.
#pragma once
#include <cstdio>
#include <string>
#include <vector>
static std::string jstr(const std::string & s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        if (c == '"') o += "\\\""; else if (c == '\\') o += "\\\\";
        else if (c == '\n') o += "\\n"; else if (c == '\r') o += "\\r"; else if (c == '\t') o += "\\t";
        else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
        else o += (char)c;
    }
    return o + "\"";
}
// A test string as units: text runs as JSON strings, 0xff-marked token ids as numbers.
static std::string junits(const std::string & s) {
    std::string o = "[", run;
    bool first = true;
    auto flush = [&]() { if (!run.empty()) { o += (first ? "" : ",") + jstr(run); first = false; run.clear(); } };
    for (size_t i = 0; i < s.size();) {
        if ((unsigned char)s[i] == 0xff && i + 5 <= s.size()) {
            flush();
            unsigned v = ((unsigned char)s[i+1] << 24) | ((unsigned char)s[i+2] << 16) | ((unsigned char)s[i+3] << 8) | (unsigned char)s[i+4];
            o += (first ? "" : ",") + std::to_string(v); first = false; i += 5;
        } else { run += s[i]; i++; }
    }
    flush();
    return o + "]";
}
static std::string jlist(const std::vector<std::string> & v) {
    std::string o = "[";
    for (size_t i = 0; i < v.size(); i++) o += (i ? "," : "") + junits(v[i]);
    return o + "]";
}
