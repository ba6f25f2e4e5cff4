package replay_test

import "math/rand/v2"

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 5)) }
