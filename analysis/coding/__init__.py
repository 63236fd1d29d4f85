"""Qualitative coding of a wave's open answers: themes, two reviewers, their agreement
(Cohen's kappa) and the consensus."""
