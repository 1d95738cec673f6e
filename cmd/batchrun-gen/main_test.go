package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBundledDataIsReproducible regenerates the sample data with the default
// flags and checks it equals examples/data byte for byte. After an
// intended change, regenerate with: go run ./cmd/batchrun-gen -out examples/data
func TestBundledDataIsReproducible(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir, defaultConfig()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"events.csv", "users.csv", "words.txt", "customers_raw.csv"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "examples", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: regenerated file (%d bytes) differs from examples/data (%d bytes); "+
				"run go run ./cmd/batchrun-gen -out examples/data", name, len(got), len(want))
		}
	}
}

func TestSeedChangesOutput(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	small := config{Events: 100, Users: 10, Words: 100, Customers: 100, Seed: 1}
	if err := generate(a, small); err != nil {
		t.Fatal(err)
	}
	small.Seed = 2
	if err := generate(b, small); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "events.csv"))
	y, _ := os.ReadFile(filepath.Join(b, "events.csv"))
	if bytes.Equal(x, y) {
		t.Errorf("events.csv is the same for seeds 1 and 2")
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		cents int
		want  string
	}{{0, "0.00"}, {5, "0.05"}, {123, "1.23"}, {-1, "-0.01"}, {-12345, "-123.45"}} {
		if got := money(tc.cents); got != tc.want {
			t.Errorf("money(%d) = %s, want %s", tc.cents, got, tc.want)
		}
	}
}
