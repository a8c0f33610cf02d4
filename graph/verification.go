package graph

import (
	"strings"

	"github.com/webhookd/webhookd/graph/model"
)

// downloadURL is the verification file's download path on the public URL,
// for account holders who fetch the file with a script or share the link;
// nil without a public URL, since the server cannot know how it is reached.
func (r *Resolver) downloadURL(v *model.Verification) *string {
	if r.PublicURL == "" {
		return nil
	}
	u := strings.TrimRight(r.PublicURL, "/") + v.DownloadPath
	return &u
}
