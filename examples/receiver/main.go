// Command receiver is a minimal webhook receiver for trying webhookd on one
// machine: it serves the files of a directory (where the webhook's
// verification file goes) and answers every POST, checking its Standard
// Webhooks signature when WEBHOOK_SECRET is set and printing the body.
//
//	WEBHOOK_SECRET=whsec_… go run ./examples/receiver -addr 127.0.0.1:9000 -dir ./site
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/webhookd/webhookd/signature"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	dir := flag.String("dir", ".", "directory served to GET requests (place the verification file here)")
	flag.Parse()
	secret := os.Getenv("WEBHOOK_SECRET")
	files := http.FileServer(http.Dir(*dir))
	log.Printf("receiver on http://%s, serving %s", *addr, *dir)
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			files.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if secret != "" {
			if err := signature.Verify(secret, r.Header, body); err != nil {
				log.Printf("refused %s: %v", r.Header.Get("webhook-id"), err)
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
		}
		log.Printf("%s %s %s", r.URL.Path, r.Header.Get("webhook-id"), body)
		w.WriteHeader(http.StatusNoContent)
	})))
}
