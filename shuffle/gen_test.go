package shuffle

import (
	"math/rand/v2"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// eventsSchema is the shape of the peers' events.csv.
var eventsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "user_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "country", Type: arrow.BinaryTypes.String},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// genEvents makes deterministic events-like batches: user_id Zipf over 1M
// users, country Zipf over 200 two-letter codes, amount with two decimals,
// ts unique. nullEvery > 0 makes every nullEvery-th value of each column
// null.
func genEvents(mem memory.Allocator, seed uint64, rows, batchRows, nullEvery int) []arrow.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	users := rand.NewZipf(rng, 1.1, 1, 1_000_000-1)
	countries := rand.NewZipf(rng, 1.2, 1, 199)
	var out []arrow.Record
	b := array.NewRecordBuilder(mem, eventsSchema)
	defer b.Release()
	for done := 0; done < rows; {
		n := min(batchRows, rows-done)
		uid := b.Field(0).(*array.Int64Builder)
		cty := b.Field(1).(*array.StringBuilder)
		amt := b.Field(2).(*array.Float64Builder)
		ts := b.Field(3).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			row := done + i
			if nullEvery > 0 && row%nullEvery == nullEvery-1 {
				uid.AppendNull()
				cty.AppendNull()
				amt.AppendNull()
				ts.AppendNull()
				continue
			}
			uid.Append(int64(users.Uint64()*7919%1_000_000) + 1)
			c := int(countries.Uint64())
			cty.Append(string([]byte{'A' + byte(c/26), 'A' + byte(c%26)}))
			amt.Append(float64(1+rng.IntN(99_999)) / 100)
			ts.Append(1_704_067_200_000 + int64(uint64(row)*2_654_435_761%34_359_738_337))
		}
		out = append(out, b.NewRecord())
		done += n
	}
	return out
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}
