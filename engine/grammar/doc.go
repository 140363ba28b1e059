// Package grammar constrains generation to a formal grammar, with
// llama.cpp's GBNF syntax and semantics: Parse reads a grammar, NewVocab
// prepares a vocabulary once, Compile joins the two, and a Matcher per
// sequence says which tokens may come next (Allowed, Mask) and moves on
// (Accept).
//
// Which tokens are allowed is exactly what llama.cpp's grammar sampler
// allows, including its handling of tokens that end in the middle of a
// UTF-8 sequence; how it is computed is not. llama.cpp matches every token
// of the vocabulary against the grammar's stacks at every step. Here the
// grammar's states are interned (see machine.go) and each state computes its
// token mask once, by walking a trie of the vocabulary that skips every
// subtree whose prefix the grammar rejects; the masks, and the transitions
// between states, are kept in the Compiled grammar and shared by every
// sequence that uses it, so a statement's thousandth row finds almost all
// of its masks ready.
package grammar
