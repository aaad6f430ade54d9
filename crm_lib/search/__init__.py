"""Search over what the team knows: email text, investor notes, long-text fields and people's
titles, by meaning (dense vectors), by words (sparse BM25-style vectors) or both (hybrid, fused
with RRF), in Qdrant. The index finds candidates; the database decides what a reader may see."""
