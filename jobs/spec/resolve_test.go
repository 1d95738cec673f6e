package spec

import (
	"strings"
	"testing"
)

// Helpers that build steps tersely; rtJob() numbers the lines 1, 2, ...

func rtJob(steps ...*Step) *Job {
	for i, s := range steps {
		s.Line = i + 1
	}
	return &Job{File: "t.yaml", Steps: steps}
}

func rtReadStep(id string, cols ...string) *Step {
	s := &Step{ID: id, Kind: KindRead, Read: &ReadStep{Path: id + ".csv"}}
	for _, c := range cols {
		name, typ, _ := strings.Cut(c, " ")
		t, err := ParseType(typ)
		if err != nil {
			panic(err)
		}
		s.Read.Schema = append(s.Read.Schema, Field{Name: name, Type: t})
	}
	return s
}

var (
	rtEventCols = []string{"user_id int64", "country string", "amount float64", "ts int64"}
	rtUserCols  = []string{"user_id int64", "name string", "segment string"}
)

func rtEvents() *Step { return rtReadStep("events", rtEventCols...) }
func rtUsers() *Step  { return rtReadStep("users", rtUserCols...) }

func rtFilterStep(id, in, pred string) *Step {
	e, err := ParseExpr(pred)
	if err != nil {
		panic(err)
	}
	return &Step{ID: id, Kind: KindFilter, Inputs: []string{in}, Filter: &FilterStep{Predicate: e}}
}

func rtSelectStep(id, in string, cols ...string) *Step {
	s := &Step{ID: id, Kind: KindSelect, Inputs: []string{in}, Select: &SelectStep{}}
	for _, c := range cols {
		ne, err := ParseNamedExpr(c)
		if err != nil {
			panic(err)
		}
		s.Select.Columns = append(s.Select.Columns, ne)
	}
	return s
}

func rtAggStep(id, in string, keys []string, aggs ...string) *Step {
	s := &Step{ID: id, Kind: KindAggregate, Inputs: []string{in}, Aggregate: &AggregateStep{Keys: keys}}
	for _, a := range aggs {
		g, err := ParseAgg(a)
		if err != nil {
			panic(err)
		}
		s.Aggregate.Aggs = append(s.Aggregate.Aggs, g)
	}
	return s
}

func rtJoinStep(id, l, r string, lk, rk []string) *Step {
	return &Step{ID: id, Kind: KindJoin, Inputs: []string{l, r}, Join: &JoinStep{LeftKeys: lk, RightKeys: rk}}
}

// rtJoinWhere is rtJoinStep of type typ with the residual where (none
// when empty) and broadcast set.
func rtJoinWhere(id, l, r string, lk, rk []string, typ JoinType, where string, broadcast bool) *Step {
	s := rtJoinStep(id, l, r, lk, rk)
	s.Join.Type, s.Join.Broadcast = typ, broadcast
	if where != "" {
		e, err := ParseExpr(where)
		if err != nil {
			panic(err)
		}
		s.Join.Where = e
	}
	return s
}

func rtSortStep(id, in string, keys ...string) *Step {
	s := &Step{ID: id, Kind: KindSort, Inputs: []string{in}, Sort: &SortStep{}}
	for _, k := range keys {
		sk, err := ParseSortKey(k)
		if err != nil {
			panic(err)
		}
		s.Sort.Keys = append(s.Sort.Keys, sk)
	}
	return s
}

func rtLimitStep(id, in string, n int64) *Step {
	return &Step{ID: id, Kind: KindLimit, Inputs: []string{in}, Limit: &LimitStep{N: n}}
}

func rtUnionStep(id string, ins ...string) *Step {
	return &Step{ID: id, Kind: KindUnion, Inputs: ins, Union: &UnionStep{}}
}

func rtRepartStep(id, in string, by Partitioning, keys ...string) *Step {
	return &Step{ID: id, Kind: KindRepartition, Inputs: []string{in}, Repartition: &RepartitionStep{By: by, Keys: keys}}
}

func rtWriteStep(id, in, path string) *Step {
	return &Step{ID: id, Kind: KindWrite, Inputs: []string{in}, Write: &WriteStep{Path: path}}
}

func rtWithParallelism(s *Step, n int) *Step { s.Parallelism = n; return s }

func TestResolveErrors(t *testing.T) {
	noSchema := rtReadStep("r")
	noPath := rtReadStep("r", "a int64")
	noPath.Read.Path = ""
	negJob := rtJob(rtEvents())
	negJob.Parallelism = -1
	noFilter := &Step{ID: "f", Kind: KindFilter, Inputs: []string{"events"}}

	for _, tc := range []struct {
		name string
		job  *Job
		want string
	}{
		{"no steps", rtJob(), `t.yaml: job has no steps`},
		{"job parallelism", negJob, `t.yaml: parallelism must be >= 0, got -1`},
		{"empty id", rtJob(rtEvents(), &Step{Kind: KindRead, Read: &ReadStep{}}), `t.yaml:2: step has no id`},
		{"duplicate id", rtJob(rtEvents(), rtUsers(), rtEvents()),
			`t.yaml:3: step "events": duplicate step id "events" (first defined at line 1)`},
		{"kind settings missing", rtJob(rtEvents(), noFilter), `t.yaml:2: step "f": filter step has no filter settings`},
		{"step parallelism", rtJob(rtWithParallelism(rtEvents(), -2)), `t.yaml:1: step "events": parallelism must be >= 0, got -2`},
		{"unknown input", rtJob(rtEvents(), rtFilterStep("f", "evnts", "amount > 1")), `t.yaml:2: step "f": unknown input "evnts"`},
		{"read with input", rtJob(rtEvents(), &Step{ID: "r", Kind: KindRead, Inputs: []string{"events"}, Read: &ReadStep{}}),
			`t.yaml:2: step "r": read takes no inputs, got 1`},
		{"join arity", rtJob(rtEvents(), &Step{ID: "j", Kind: KindJoin, Inputs: []string{"events"}, Join: &JoinStep{}}),
			`t.yaml:2: step "j": join takes 2 inputs (left and right), got 1`},
		{"union arity", rtJob(rtEvents(), rtUnionStep("u", "events")), `t.yaml:2: step "u": union takes at least 2 inputs, got 1`},
		{"filter arity", rtJob(rtEvents(), &Step{ID: "f", Kind: KindFilter, Filter: &FilterStep{}}), `t.yaml:2: step "f": filter takes 1 input, got 0`},
		{"self cycle", rtJob(rtEvents(), rtFilterStep("a", "a", "true")), `t.yaml:2: step "a": cycle: a -> a`},
		{"two cycle", rtJob(rtEvents(), rtFilterStep("a", "b", "true"), rtFilterStep("b", "a", "true")),
			`t.yaml:2: step "a": cycle: a -> b -> a`},
		{"three cycle in data-flow order", rtJob(rtEvents(), rtFilterStep("tail", "b", "true"), rtFilterStep("a", "c", "true"),
			rtFilterStep("b", "a", "true"), rtFilterStep("c", "b", "true")),
			`t.yaml:3: step "a": cycle: a -> b -> c -> a`},
		{"write consumed", rtJob(rtEvents(), rtWriteStep("w", "events", "o.csv"), rtLimitStep("l", "w", 1)),
			`t.yaml:3: step "l": input "w" is a write step, which has no output`},
		{"read no schema", rtJob(noSchema), `t.yaml:1: step "r": read has no schema`},
		{"read no path", rtJob(noPath), `t.yaml:1: step "r": read path is empty`},
		{"read duplicate column", rtJob(rtReadStep("r", "a int64", "a string")), `t.yaml:1: step "r": duplicate column "a" in read schema`},
		{"filter not bool", rtJob(rtEvents(), rtFilterStep("f", "events", "amount + 1")),
			`t.yaml:2: step "f": filter predicate amount + 1 has type float64, want bool`},
		{"filter unknown column", rtJob(rtEvents(), rtFilterStep("f", "events", "amt > 1")),
			`t.yaml:2: step "f": filter: unknown column "amt" (have user_id, country, amount, ts)`},
		{"filter type mismatch", rtJob(rtEvents(), rtFilterStep("f", "events", "country > 1")),
			`t.yaml:2: step "f": filter: cannot compare string with int64 in "country > 1"`},
		{"filter no predicate", rtJob(rtEvents(), &Step{ID: "f", Kind: KindFilter, Inputs: []string{"events"}, Filter: &FilterStep{}}),
			`t.yaml:2: step "f": filter has no predicate`},
		{"select duplicate", rtJob(rtEvents(), rtSelectStep("s", "events", "amount", "ts AS amount")),
			`t.yaml:2: step "s": duplicate column "amount" in select`},
		{"select unknown column", rtJob(rtEvents(), rtSelectStep("s", "events", "amount * rate AS x")),
			`t.yaml:2: step "s": select "x": unknown column "rate" (have user_id, country, amount, ts)`},
		{"select empty", rtJob(rtEvents(), rtSelectStep("s", "events")), `t.yaml:2: step "s": select has no columns`},
		{"aggregate unknown key", rtJob(rtEvents(), rtAggStep("a", "events", []string{"segment"}, "count(*)")),
			`t.yaml:2: step "a": aggregate key: unknown column "segment" (have user_id, country, amount, ts)`},
		{"aggregate unknown arg", rtJob(rtEvents(), rtAggStep("a", "events", []string{"country"}, "sum(amt)")),
			`t.yaml:2: step "a": sum(amt): unknown column "amt" (have user_id, country, amount, ts)`},
		{"aggregate sum of string", rtJob(rtEvents(), rtAggStep("a", "events", []string{"user_id"}, "sum(country)")),
			`t.yaml:2: step "a": sum(country): column "country" has type string, want int64, float64 or a decimal`},
		{"aggregate avg of string", rtJob(rtEvents(), rtAggStep("a", "events", nil, "avg(country) AS x")),
			`t.yaml:2: step "a": avg(country): column "country" has type string, want int64, float64 or a decimal`},
		{"aggregate duplicate output", rtJob(rtEvents(), rtAggStep("a", "events", []string{"country"}, "count(*) AS country")),
			`t.yaml:2: step "a": duplicate column "country" in aggregate output`},
		{"aggregate nothing", rtJob(rtEvents(), rtAggStep("a", "events", nil)),
			`t.yaml:2: step "a": aggregate has no keys and no aggregates`},
		{"join unknown left key", rtJob(rtEvents(), rtUsers(), rtJoinStep("j", "events", "users", []string{"uid"}, []string{"user_id"})),
			`t.yaml:3: step "j": join key of left input "events": unknown column "uid" (have user_id, country, amount, ts)`},
		{"join unknown right key", rtJob(rtEvents(), rtUsers(), rtJoinStep("j", "events", "users", []string{"user_id"}, []string{"id"})),
			`t.yaml:3: step "j": join key of right input "users": unknown column "id" (have user_id, name, segment)`},
		{"join key types differ", rtJob(rtEvents(), rtReadStep("r", "amount int64", "x string"),
			rtJoinStep("j", "events", "r", []string{"amount"}, []string{"amount"})),
			`t.yaml:3: step "j": join key amount = amount: types differ (float64 vs int64)`},
		{"join ambiguous", rtJob(rtEvents(), rtReadStep("r", "uid int64", "country string"),
			rtJoinStep("j", "events", "r", []string{"user_id"}, []string{"uid"})),
			`t.yaml:3: step "j": column "country" is ambiguous: rename it with a select before the join`},
		{"join key with other name is kept and ambiguous", rtJob(rtEvents(), rtReadStep("r", "user_id int64", "uid int64"),
			rtJoinStep("j", "events", "r", []string{"user_id"}, []string{"uid"})),
			`t.yaml:3: step "j": column "user_id" is ambiguous: rename it with a select before the join`},
		{"join no keys", rtJob(rtEvents(), rtUsers(), rtJoinStep("j", "events", "users", nil, nil)),
			`t.yaml:3: step "j": a join without keys (on) broadcasts its right input: broadcast cannot be false`},
		{"join keys unpaired", rtJob(rtEvents(), rtUsers(), rtJoinStep("j", "events", "users", []string{"user_id"}, nil)),
			`t.yaml:3: step "j": join needs pairs of keys, got 1 left and 0 right`},
		{"right join no keys", rtJob(rtEvents(), rtUsers(), rtJoinWhere("j", "events", "users", nil, nil, RightJoin, "", true)),
			`t.yaml:3: step "j": a right join needs keys (on): a join without keys broadcasts its right input, which a right join cannot`},
		{"join where not bool", rtJob(rtEvents(), rtUsers(), rtJoinWhere("j", "events", "users", []string{"user_id"}, []string{"user_id"}, InnerJoin, "amount + 1", false)),
			`t.yaml:3: step "j": join where amount + 1 has type float64, want bool`},
		{"join where unknown column", rtJob(rtEvents(), rtUsers(), rtJoinWhere("j", "events", "users", []string{"user_id"}, []string{"user_id"}, LeftJoin, "nme <> country", false)),
			`t.yaml:3: step "j": join where: unknown column "nme" (have user_id, country, amount, ts, name, segment)`},
		{"join where ambiguous", rtJob(rtEvents(), rtReadStep("r", "uid int64", "country string"),
			rtJoinWhere("j", "events", "r", []string{"user_id"}, []string{"uid"}, SemiJoin, "country <> 'x'", false)),
			`t.yaml:3: step "j": join where: column "country" is in both inputs ("events" and "r"): rename it with a select before the join`},
		{"join where type error", rtJob(rtEvents(), rtUsers(), rtJoinWhere("j", "events", "users", nil, nil, AntiJoin, "name > amount", true)),
			`t.yaml:3: step "j": join where: cannot compare string with float64 in "name > amount"`},
		{"sort unknown key", rtJob(rtEvents(), rtSortStep("s", "events", "revenue DESC")),
			`t.yaml:2: step "s": sort key: unknown column "revenue" (have user_id, country, amount, ts)`},
		{"limit negative", rtJob(rtEvents(), rtLimitStep("l", "events", -1)), `t.yaml:2: step "l": limit must be >= 0, got -1`},
		{"limit offset negative", rtJob(rtEvents(), &Step{ID: "l", Kind: KindLimit, Inputs: []string{"events"}, Limit: &LimitStep{N: 1, Offset: -1}}),
			`t.yaml:2: step "l": limit offset must be >= 0, got -1`},
		{"union column name", rtJob(rtReadStep("a", "x int64", "y string"), rtReadStep("b", "x int64", "z string"), rtUnionStep("u", "a", "b")),
			`t.yaml:3: step "u": union input "b" column 2 is "z", but input "a" has "y"`},
		{"union column type", rtJob(rtReadStep("a", "x int64"), rtReadStep("b", "x int64"), rtReadStep("c", "x float64"), rtUnionStep("u", "a", "b", "c")),
			`t.yaml:4: step "u": union input "c" column "x" has type float64, but input "a" has int64`},
		{"union column count", rtJob(rtReadStep("a", "x int64"), rtReadStep("b", "x int64", "y int64"), rtUnionStep("u", "a", "b")),
			`t.yaml:3: step "u": union input "b" has 2 columns, but input "a" has 1`},
		{"repartition hash no keys", rtJob(rtEvents(), rtRepartStep("p", "events", PartitionHash)),
			`t.yaml:2: step "p": repartition by hash needs keys`},
		{"repartition unknown key", rtJob(rtEvents(), rtRepartStep("p", "events", PartitionHash, "uid")),
			`t.yaml:2: step "p": repartition key: unknown column "uid" (have user_id, country, amount, ts)`},
		{"repartition keys without hash", rtJob(rtEvents(), rtRepartStep("p", "events", PartitionRebalance, "user_id")),
			`t.yaml:2: step "p": repartition by rebalance takes no keys`},
		{"write no path", rtJob(rtEvents(), rtWriteStep("w", "events", "")), `t.yaml:2: step "w": write path is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) { wantResolveError(t, tc.job, tc.want) })
	}
}

// wantResolveError checks that Resolve(job) fails with the *spec.Error
// whose text is want.
func wantResolveError(t *testing.T, job *Job, want string) {
	t.Helper()
	_, err := Resolve(job)
	if err == nil {
		t.Fatalf("Resolve = nil error, want %s", want)
	}
	if _, ok := err.(*Error); !ok {
		t.Errorf("Resolve error is %T, want *spec.Error", err)
	}
	if got := err.Error(); got != want {
		t.Errorf("Resolve error\n got %s\nwant %s", got, want)
	}
}

func TestResolveSchemas(t *testing.T) {
	j := rtJob(
		rtEvents(),
		rtUsers(),
		rtJoinStep("joined", "events", "users", []string{"user_id"}, []string{"user_id"}),
		rtAggStep("agg", "joined", []string{"segment"}, "count(*) AS orders", "sum(amount) AS revenue",
			"avg(ts) AS avg_ts", "sum(ts)", "min(name) AS first", "max(amount)", "count(name)"),
		rtSelectStep("proj", "agg", "segment", "revenue / orders AS avg_order", "orders > 10 AS big",
			"upper(segment) AS seg", "CAST(orders AS string) AS n"),
		rtJoinStep("renamed", "events", "users", []string{"user_id"}, []string{"user_id"}),
		rtReadStep("r", "uid int64", "segment string"),
		rtJoinStep("diff", "events", "r", []string{"user_id"}, []string{"uid"}),
		rtUnionStep("u", "events", "events"),
		rtLimitStep("lim", "u", 0),
		rtJoinWhere("cross", "events", "r", nil, nil, LeftJoin, "segment LIKE 'a%' AND ts > uid", true),
		rtJoinWhere("using", "events", "users", []string{"user_id"}, []string{"user_id"}, SemiJoin, "user_id > 0 AND name <> country", false),
		rtWriteStep("out", "proj", "out.csv"),
	)
	res, err := Resolve(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, want string }{
		{"joined", "(user_id int64, country string, amount float64, ts int64, name string, segment string)"},
		{"agg", "(segment string, orders int64, revenue float64, avg_ts float64, sum_ts int64, first string, max_amount float64, count_name int64)"},
		{"proj", "(segment string, avg_order float64, big bool, seg string, n string)"},
		{"diff", "(user_id int64, country string, amount float64, ts int64, uid int64, segment string)"},
		{"u", "(user_id int64, country string, amount float64, ts int64)"},
		{"lim", "(user_id int64, country string, amount float64, ts int64)"},
		{"cross", "(user_id int64, country string, amount float64, ts int64, uid int64, segment string)"},
		{"using", "(user_id int64, country string, amount float64, ts int64)"},
		{"out", "(segment string, avg_order float64, big bool, seg string, n string)"},
	} {
		if got := res.Schemas[tc.id].String(); got != tc.want {
			t.Errorf("Schemas[%s] = %s, want %s", tc.id, got, tc.want)
		}
	}
	if len(res.Schemas) != len(j.Steps) {
		t.Errorf("len(Schemas) = %d, want %d", len(res.Schemas), len(j.Steps))
	}
}

func TestResolveOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		job  *Job
		want string
	}{
		{"spec order when already sorted", rtJob(rtEvents(), rtUsers(), rtLimitStep("l", "events", 1)), "events users l"},
		{"inputs first, ties in spec order", rtJob(
			rtFilterStep("f", "events", "true"), rtEvents(), rtUsers(),
			rtJoinStep("j", "f", "users", []string{"user_id"}, []string{"user_id"}),
			rtWriteStep("w", "j", "o.csv")),
			"events f users j w"},
		{"union waits for all inputs", rtJob(rtUnionStep("u", "b", "a"), rtReadStep("b", "x int64"), rtReadStep("a", "x int64")),
			"b a u"},
	} {
		res, err := Resolve(tc.job)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, s := range res.Order {
			ids = append(ids, s.ID)
		}
		if got := strings.Join(ids, " "); got != tc.want {
			t.Errorf("%s: Order = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestResolveDoesNotModifyJob(t *testing.T) {
	j := rtJob(rtEvents(), rtLimitStep("l", "events", 1))
	if _, err := Resolve(j); err != nil {
		t.Fatal(err)
	}
	if j.Parallelism != 0 || j.Steps[1].Parallelism != 0 {
		t.Errorf("Resolve changed parallelism: job %d, step %d", j.Parallelism, j.Steps[1].Parallelism)
	}
}

func TestErrorWithoutFile(t *testing.T) {
	j := &Job{Steps: []*Step{rtEvents(), rtFilterStep("f", "nope", "true")}}
	_, err := Resolve(j)
	if got, want := err.Error(), `step "f": unknown input "nope"`; got != want {
		t.Errorf("error = %s, want %s", got, want)
	}
}
