"""The CP-SAT model only: integers with units in, assignments out; imports nothing of ours."""
