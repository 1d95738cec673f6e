// Command batchrun-gen writes the sample data sets the example jobs read.
// Its output is a pure function of its flags: the bundled examples/data is
// `batchrun-gen -out examples/data` with the defaults, and a test checks
// that it stays so.
//
//	events.csv         order_id, user_id (skewed to low ids), country, amount (2 decimals), ts
//	users.csv          user_id, name, segment (10 segments)
//	words.txt          header "word", then one lower-case word per line (Zipf-like)
//	customers_raw.csv  customer_id, name, email, country, amount, signup_ts, with
//	                   dirt for an ETL clean-up: empty emails, mixed-case
//	                   emails and countries, negative amounts
//	events.parquet     with -parquet: the rows of events.csv (snappy, one file)
//	users.parquet      with -parquet: the rows of users.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// config is what the flags set.
type config struct {
	Events, Users, Words, Customers int
	Seed                            uint64
}

func defaultConfig() config {
	return config{Events: 50000, Users: 2000, Words: 20000, Customers: 5000, Seed: 42}
}

func main() {
	c := defaultConfig()
	out := flag.String("out", "examples/data", "directory to write the files into")
	flag.IntVar(&c.Events, "events", c.Events, "rows of events.csv")
	flag.IntVar(&c.Users, "users", c.Users, "rows of users.csv")
	flag.IntVar(&c.Words, "words", c.Words, "words (lines) of words.txt")
	flag.IntVar(&c.Customers, "customers", c.Customers, "rows of customers_raw.csv")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	pq := flag.Bool("parquet", false, "also write events.parquet and users.parquet (the same rows, snappy)")
	flag.Parse()
	err := generate(*out, c)
	if err == nil && *pq {
		err = writeParquetCopies(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "batchrun-gen:", err)
		os.Exit(1)
	}
}

// generate writes every file into dir. Each file draws from its own stream
// of the seed, so changing one size leaves the other files unchanged.
func generate(dir string, c config) error {
	if c.Users < 1 || c.Events < 0 || c.Words < 0 || c.Customers < 0 {
		return fmt.Errorf("sizes must be >= 0 and -users >= 1")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		gen  func(*bufio.Writer, *rng)
	}{
		{"events.csv", func(w *bufio.Writer, r *rng) { writeEvents(w, r, c.Events, c.Users) }},
		{"users.csv", func(w *bufio.Writer, r *rng) { writeUsers(w, r, c.Users) }},
		{"words.txt", func(w *bufio.Writer, r *rng) { writeWords(w, r, c.Words) }},
		{"customers_raw.csv", func(w *bufio.Writer, r *rng) { writeCustomers(w, r, c.Customers) }},
	}
	for i, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), newRNG(c.Seed, uint64(i)), f.gen); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, r *rng, gen func(*bufio.Writer, *rng)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	gen(w, r)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rng draws from a PCG stream. It uses only PCG's Uint64, whose output is
// fixed by its specification, and derives everything else here, so the
// files do not change with the Go version.
type rng struct{ src *rand.PCG }

func newRNG(seed, stream uint64) *rng { return &rng{rand.NewPCG(seed, stream)} }

// intn returns a uniform int in [0, n), n > 0.
func (r *rng) intn(n int) int {
	limit := math.MaxUint64 - math.MaxUint64%uint64(n)
	for {
		if v := r.src.Uint64(); v < limit {
			return int(v % uint64(n))
		}
	}
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) / (1 << 53) }

// pick returns an index drawn with the given cumulative weights.
func (r *rng) pick(cum []int) int {
	x := r.intn(cum[len(cum)-1])
	return sort.SearchInts(cum, x+1)
}

func cumulative(weights []int) []int {
	cum := make([]int, len(weights))
	sum := 0
	for i, w := range weights {
		sum += w
		cum[i] = sum
	}
	return cum
}

var (
	countries      = []string{"DE", "FR", "US", "GB", "ES", "IT", "NL", "PL", "SE", "JP"}
	countryWeights = cumulative([]int{25, 18, 20, 10, 8, 7, 5, 4, 2, 1})
	segments       = []string{"enterprise", "smb", "startup", "education", "government",
		"nonprofit", "retail", "healthcare", "finance", "media"}
	firstNames = []string{"Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas",
		"Karla", "Leon", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Yara", "Zoe"}
	lastNames = []string{"Schmidt", "Martin", "Smith", "Garcia", "Rossi", "Jansen", "Nowak", "Berg", "Tanaka",
		"Dubois", "Fischer", "Brown", "Lopez", "Weber", "Moreau", "Kowalski", "Lindqvist", "Sato", "Meyer", "Clarke"}
)

// money formats cents as a decimal with two digits after the point.
func money(cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

func writeEvents(w *bufio.Writer, r *rng, n, users int) {
	w.WriteString("order_id,user_id,country,amount,ts\n")
	ts := int64(1704067200) // 2024-01-01T00:00:00Z
	for i := 1; i <= n; i++ {
		f := r.float()
		user := int(f*f*float64(users)) + 1 // density ~ 1/sqrt: low ids order more
		g := r.float()
		cents := 100 + int(g*g*g*49900) // 1.00 .. 500.00, mostly small
		ts += int64(1 + r.intn(60))
		fmt.Fprintf(w, "%d,%d,%s,%s,%d\n", i, user, countries[r.pick(countryWeights)], money(cents), ts)
	}
}

func personName(r *rng) (first, last string) {
	return firstNames[r.intn(len(firstNames))], lastNames[r.intn(len(lastNames))]
}

func writeUsers(w *bufio.Writer, r *rng, n int) {
	w.WriteString("user_id,name,segment\n")
	for i := 1; i <= n; i++ {
		first, last := personName(r)
		fmt.Fprintf(w, "%d,%s %s,%s\n", i, first, last, segments[r.intn(len(segments))])
	}
}

// vocabulary is ordered by rank: earlier words are drawn more often.
var vocabulary = strings.Fields(`
the of and to in a is that for it as was with be by on not he this are or his
from at which but have an they you were her she there one all we their been
has would when who will more if no out so said what up its about into than
them can only other new some could time these two may then do first any my now
such like our over man me even most made after also did many before must
through back years where much your way well down should because each just
those people how too little state good very make world still own see men work
long here get both between life being under never day same another know while
last might us great old year off come since against go came right used take
three batch job stage region shuffle partition commit attempt failover restart
data river stone cloud garden lantern harbor meadow orbit pepper quartz saddle
timber velvet willow yonder zephyr amber bridge candle dagger ember falcon`)

func writeWords(w *bufio.Writer, r *rng, n int) {
	weights := make([]int, len(vocabulary))
	for k := range weights {
		weights[k] = 100000 / (k + 10) // Zipf-like, flattened at the head
	}
	cum := cumulative(weights)
	w.WriteString("word\n")
	for i := 0; i < n; i++ {
		w.WriteString(vocabulary[r.pick(cum)])
		w.WriteByte('\n')
	}
}

// mixCase returns s with each letter upper- or lower-cased at random.
func mixCase(r *rng, s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if c >= 'a' && c <= 'z' && r.intn(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func writeCustomers(w *bufio.Writer, r *rng, n int) {
	w.WriteString("customer_id,name,email,country,amount,signup_ts\n")
	domains := []string{"example.com", "mail.test", "corp.example", "post.test"}
	ts := int64(1672531200) // 2023-01-01T00:00:00Z
	for i := 1; i <= n; i++ {
		first, last := personName(r)
		email := ""
		if r.intn(100) >= 8 { // 8% have no email
			email = first + "." + last + fmt.Sprint(i) + "@" + domains[r.intn(len(domains))]
			if r.intn(3) == 0 {
				email = mixCase(r, email)
			}
		}
		country := countries[r.pick(countryWeights)]
		if r.intn(2) == 0 {
			country = mixCase(r, country)
		}
		cents := r.intn(100000)
		if r.intn(100) < 5 { // 5% negative: refunds booked wrongly
			cents = -cents - 1
		}
		ts += int64(60 + r.intn(6000))
		fmt.Fprintf(w, "%d,%s %s,%s,%s,%s,%d\n", i, first, last, email, country, money(cents), ts)
	}
}
