// Package testenv builds real webhookd components for tests: an embedded
// event store in a temporary directory, a read-model database, a running
// projection runner and the application layer over them. Tests use these
// real parts rather than mocks of the project's own store.
package testenv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/projections"
)

// Env is a running core: store, projections and app.
type Env struct {
	Dir    string
	Store  eventstore.Store
	Codec  *eventstore.Codec
	ReadDB *bbolt.DB
	Runner *projections.Runner
	Broker *projections.Broker
	App    *app.App
}

// New starts a core in t.TempDir and stops it when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{NoSync: true, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	readDB, err := bbolt.Open(filepath.Join(dir, "readmodel.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	codec := eventstore.NewCodec()
	domain.RegisterEvents(codec)
	broker := projections.NewBroker()
	runner := &projections.Runner{
		Name: "readmodel", Store: store, DB: readDB, Codec: codec,
		Projections: projections.All(), OnCommit: broker.Publish,
	}
	if err := runner.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	a := app.New(store, codec, readDB, runner)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("projection runner: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("projection runner did not stop")
		}
		readDB.Close()
		store.Close()
	})
	return &Env{Dir: dir, Store: store, Codec: codec, ReadDB: readDB, Runner: runner, Broker: broker, App: a}
}

// AccountKey creates an API key of scope for account and returns its
// principal and the raw key.
func (e *Env) AccountKey(t testing.TB, account string, scope domain.KeyScope) (app.Principal, string) {
	t.Helper()
	k, err := e.App.CreateAPIKey(context.Background(), account, scope, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return app.Principal{AccountID: account, KeyID: k.Key.ID, Scope: scope}, k.Secret
}
