package http

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/integrations/webhook"
)

// webhookRoutes manage a shop's outbound webhooks (package
// integrations/webhook): endpoints, their delivery logs, retries by hand.
func (s *Server) webhookRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/webhooks", permWebhooksRead, s.listWebhooks},
		{"POST", "/webhooks", permWebhooksWrite, s.createWebhook},
		{"PATCH", "/webhooks/{id}", permWebhooksWrite, s.updateWebhook},
		{"DELETE", "/webhooks/{id}", permWebhooksWrite, s.deleteWebhook},
		{"GET", "/webhooks/{id}/deliveries", permWebhooksRead, s.listWebhookDeliveries},
		{"POST", "/webhook-deliveries/{id}/retry", permWebhooksWrite, s.retryWebhookDelivery},
	}
}

func (s *Server) webhookRules() webhook.Rules {
	return webhook.Rules{AllowPrivate: s.Config.WebhookAllowPrivate, Overlap: s.Config.WebhookSecretOverlap}
}

type webhookList struct {
	Items      []webhook.Endpoint `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var after uuid.UUID
	if p.Cursor != "" {
		if after, err = uuid.Parse(p.Cursor); err != nil {
			writeError(w, r, errs.Field("cursor", "is not a cursor this server issued"))
			return
		}
	}
	items, err := webhook.List(r.Context(), s.Pool, callerFrom(r.Context()).Acting, after, p.Limit+1, s.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := webhookList{Items: items}
	if len(items) > p.Limit {
		out.Items = items[:p.Limit]
		next := out.Items[p.Limit-1].ID.String()
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
}

type webhookRequest struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Secret *string   `json:"secret"`
	Active *bool     `json:"active"`
}

// createWebhook is POST /webhooks: 201 with the endpoint and its secret
// (shown this once).
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	var fe errs.Collector
	fe.Check(in.URL != nil, "url", "is required")
	fe.Check(in.Events != nil, "events", "is required")
	fe.Check(in.Active == nil, "active", "is set with PATCH")
	if err := fe.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	n := webhook.NewEndpoint{URL: *in.URL, Events: *in.Events}
	if in.Secret != nil {
		if *in.Secret == "" {
			writeError(w, r, errs.Field("secret", "must be 16 to 200 characters, or left out to have one made"))
			return
		}
		n.Secret = *in.Secret
	}
	e, err := webhook.Create(r.Context(), s.Pool, callerFrom(r.Context()).Acting, n, s.webhookRules(), s.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// updateWebhook is PATCH /webhooks/{id}: a new secret is a rotation (the
// old one signs too for WEBHOOK_SECRET_OVERLAP).
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookRequest
	id, ok := decodeAt(w, r, uuid.Parse, &in)
	if !ok {
		return
	}
	e, err := webhook.Update(r.Context(), s.Pool, callerFrom(r.Context()).Acting, id,
		webhook.Patch{URL: in.URL, Events: in.Events, Secret: in.Secret, Active: in.Active}, s.webhookRules(), s.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// deleteWebhook is DELETE /webhooks/{id}: 204; its delivery log stays.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := webhook.Delete(r.Context(), s.Pool, callerFrom(r.Context()).Acting, id, s.Now()); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type webhookDeliveryList struct {
	Items      []webhook.Delivery `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

// listWebhookDeliveries is GET /webhooks/{id}/deliveries[?status=]: the
// endpoint's delivery log, newest first.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var before int64
	if p.Cursor != "" {
		if before, err = strconv.ParseInt(p.Cursor, 10, 64); err != nil || before <= 0 {
			writeError(w, r, errs.Field("cursor", "is not a cursor this server issued"))
			return
		}
	}
	items, err := webhook.ListDeliveries(r.Context(), s.Pool, callerFrom(r.Context()).Acting, id, r.URL.Query().Get("status"), before, p.Limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := webhookDeliveryList{Items: items}
	if len(items) > p.Limit {
		out.Items = items[:p.Limit]
		next := strconv.FormatInt(out.Items[p.Limit-1].Seq, 10)
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
}

// retryWebhookDelivery is POST /webhook-deliveries/{id}/retry: the
// delivery is pending again and attempted at once; 200 with it, 409
// webhook_deleted when its endpoint was deleted.
func (s *Server) retryWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := decodeOptionalJSON(r, &struct{}{}); err != nil {
		writeError(w, r, err)
		return
	}
	d, err := webhook.Retry(r.Context(), s.Pool, callerFrom(r.Context()).Acting, id, s.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
