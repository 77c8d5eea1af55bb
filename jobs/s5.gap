# The symmetric group S_5 in GAP notation (read by jobs/growth-gap.yaml).
# GAP acts on the right: point i goes to i^g; (1,2,3,4,5) sends 1 to 2, ..., 5 to 1.
cycle := (1,2,3,4,5);
swap  := (1,2);
# Not a generator: Group(...) below decides which permutations generate, and in which order.
unused := (1,3)(2,4);
S5 := Group(cycle, swap);   # Size(S5) = 120 in GAP
