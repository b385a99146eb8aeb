"""The recognisers of the question reader: each finds one kind of thing in a question (a
time, a place, an outlet, an event, a person, a kind, a role) and says so as claims
(``index.claims``). ``understand.Reader`` runs them all and settles their claims."""
