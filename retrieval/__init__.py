"""Retrieval: text normalisation, embeddings, the Chroma store, indexing and entry ranking.

Heavy libraries (sentence-transformers, torch, chromadb) are imported only inside the modules
that wrap them, and only when first used.
"""
