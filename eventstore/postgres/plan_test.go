package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/webhookd/webhookd/eventstore"
)

// TestPageQueryPlan: the read every subscription, catch-up and lag scrape
// makes is planned generically once prepared (the parameters' values
// unknown), and that plan must touch the log through its primary key
// only. A plan with a sequential scan costs each read the whole table,
// which under load delays every reader by seconds.
func TestPageQueryPlan(t *testing.T) {
	dbURL := newDatabase(t)
	s := mustOpen(t, dbURL, Options{SweepInterval: -1})
	ctx := t.Context()
	const streams, perAppend = 20, 1000 // a log large enough for the planner to weigh a scan
	for i := range streams {
		evs := make([]eventstore.EventData, perAppend)
		for j := range evs {
			evs[j] = testEvent(i*perAppend + j)
		}
		if _, err := s.Append(ctx, "plan-"+strconv.Itoa(i), eventstore.NoStream, evs...); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{`ANALYZE webhookd_events`, `SET plan_cache_mode = force_generic_plan`, `PREPARE page(bigint, int, bool) AS ` + pageQuery} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, naive := range []bool{false, true} {
		var plan []byte
		err := conn.QueryRow(ctx, `EXPLAIN (FORMAT JSON) EXECUTE page(0, 256, `+strconv.FormatBool(naive)+`)`).Scan(&plan)
		if err != nil {
			t.Fatal(err)
		}
		var root []struct{ Plan planNode }
		if err := json.Unmarshal(plan, &root); err != nil || len(root) != 1 {
			t.Fatalf("plan %s: %v", plan, err)
		}
		if scan := root[0].Plan.find("Seq Scan"); scan != nil {
			t.Errorf("naive=%v: the generic plan scans %s sequentially:\n%s", naive, scan.Relation, plan)
		}
	}
}

// planNode is the part of EXPLAIN's JSON the test reads.
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Plans    []planNode `json:"Plans"`
}

// find returns the first node of type typ in the tree, or nil.
func (n *planNode) find(typ string) *planNode {
	if n.NodeType == typ {
		return n
	}
	for i := range n.Plans {
		if f := n.Plans[i].find(typ); f != nil {
			return f
		}
	}
	return nil
}
