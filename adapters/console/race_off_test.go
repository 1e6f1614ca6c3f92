//go:build !race

package console_test

const underRace = false
