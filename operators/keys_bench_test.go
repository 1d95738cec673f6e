package operators

import (
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// BenchmarkKeyHash measures what HashAggregate and HashJoin do per batch
// before they touch a table: encode the key columns of the events and hash
// every row's key (one string column; a tuple, encoded into a byte string
// per row).
func BenchmarkKeyHash(b *testing.B) {
	_, _, recs := optest.Events(b)
	for _, keys := range []string{"country", "country,user_id", "user_id,ts,amount,country"} {
		b.Run(keys, func(b *testing.B) {
			var idx []int
			var types []spec.Type
			for _, k := range strings.Split(keys, ",") {
				i := optest.EventsSchema.Index(k)
				if i < 0 {
					b.Fatalf("no column %s", k)
				}
				idx, types = append(idx, i), append(types, optest.EventsSchema[i].Type)
			}
			codec, err := newKeyCodec(types)
			if err != nil {
				b.Fatal(err)
			}
			var k batchKeys
			var views []arrowx.ColView
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, rec := range recs {
					if views, err = arrowx.ViewsOf(rec, idx, views); err != nil {
						b.Fatal(err)
					}
					if err := codec.prepare(views, int(rec.NumRows()), &k); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/optest.BenchRows, "ns/row")
		})
	}
}
