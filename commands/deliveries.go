package commands

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/delivery"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var deliveries = repo(delivery.StreamType, delivery.FromHistory)

// Errors of downloads.
var (
	ErrDeliveryNotFound = errs.NotFoundf("delivery")
	// ErrBadDownloadToken is a link that was never issued (or was altered):
	// 404, like a missing resource.
	ErrBadDownloadToken = errs.NotFoundf("download")
)

// issueDeliveries issues the delivery of every digital line of o that has
// none yet, with the product's download settings or the shop's defaults.
// Issuing again adds nothing.
func issueDeliveries(ctx context.Context, tx *eventstore.Tx, t tenant.ID, o *order.Order, set tenant.Settings, md eventstore.Metadata, now time.Time) error {
	for _, l := range o.Lines() {
		if l.FulfillmentType != catalog.FulfillmentDigital {
			continue
		}
		id := delivery.IDFor(o.ID().UUID, l.ID)
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delivery_index WHERE tenant_id = $1 AND id = $2)`, t, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		ttl, max, file := set.DigitalURLTTLHours, set.DigitalMaxDownloads, ""
		p, err := products.Read(ctx, tx, t, l.Product)
		if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			return err
		}
		if err == nil && p.Digital() != nil {
			d := p.Digital()
			if d.URLTTLHours > 0 {
				ttl = d.URLTTLHours
			}
			if d.MaxDownloads > 0 {
				max = d.MaxDownloads
			}
			file = d.File
		}
		if max <= 0 {
			max = 5
		}
		if ttl <= 0 {
			ttl = 72
		}
		d := delivery.Issue(delivery.Issued{ID: id, Order: o.ID().UUID, Line: l.ID, Product: l.Product, SKU: l.SKU, File: file,
			MaxDownloads: max, ExpiresAt: now.Add(time.Duration(ttl) * time.Hour)}, now)
		dmd := md
		if dmd.CommandID != uuid.Nil {
			dmd.CommandID = uuid.NewSHA1(md.CommandID, id[:])
		}
		if _, err := deliveries.Save(ctx, tx, t, id, d, nil, dmd); err != nil {
			return err
		}
		if err := indexDelivery(ctx, tx, t, d); err != nil {
			return err
		}
	}
	return nil
}

func indexDelivery(ctx context.Context, tx *eventstore.Tx, t tenant.ID, d *delivery.Delivery) error {
	is := d.Issued()
	used, max := d.Downloads()
	const q = `INSERT INTO delivery_index (tenant_id, id, order_id, line_id, sku, file, max_downloads, downloads, generation, expires_at, version, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (tenant_id, id) DO UPDATE SET max_downloads = EXCLUDED.max_downloads, downloads = EXCLUDED.downloads,
  generation = EXCLUDED.generation, expires_at = EXCLUDED.expires_at, version = EXCLUDED.version
WHERE delivery_index.version < EXCLUDED.version`
	_, err := tx.Exec(ctx, q, t, is.ID, is.Order, is.Line, is.SKU, is.File, max, used, d.Generation(), d.ExpiresAt(), d.Version(), is.At)
	return err
}

// downloadKey returns the tenant's link-signing key, made on first use.
func downloadKey(ctx context.Context, q eventstore.Querier, t tenant.ID) ([]byte, error) {
	var key []byte
	err := q.QueryRow(ctx, `SELECT key FROM download_keys WHERE tenant_id = $1`, t).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	const ins = `INSERT INTO download_keys (tenant_id, key) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET key = download_keys.key RETURNING key`
	if err := q.QueryRow(ctx, ins, t, fresh).Scan(&key); err != nil {
		return nil, fmt.Errorf("download key: %w", err)
	}
	return key, nil
}

// signDownload returns the link token of delivery id's generation gen,
// expiring at exp: "<payload>.<mac>", both base64url, the payload holding
// the id, the generation and the expiry, the MAC an HMAC-SHA256 of the
// tenant and the payload under the tenant's key.
func signDownload(key []byte, t tenant.ID, id uuid.UUID, gen int, exp time.Time) string {
	payload := make([]byte, 0, 28)
	payload = append(payload, id[:]...)
	payload = binary.BigEndian.AppendUint32(payload, uint32(gen))
	payload = binary.BigEndian.AppendUint64(payload, uint64(exp.Unix()))
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(downloadMAC(key, t, payload))
}

func downloadMAC(key []byte, t tenant.ID, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(t.UUID[:])
	m.Write(payload)
	return m.Sum(nil)[:20]
}

// parseDownload checks token's signature and returns what it names.
func parseDownload(key []byte, t tenant.ID, token string) (uuid.UUID, int, time.Time, bool) {
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > 200 {
		return uuid.Nil, 0, time.Time{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) != 28 || !hmac.Equal(mac, downloadMAC(key, t, payload)) {
		return uuid.Nil, 0, time.Time{}, false
	}
	id, _ := uuid.FromBytes(payload[:16])
	gen := int(binary.BigEndian.Uint32(payload[16:20]))
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[20:])), 0).UTC()
	return id, gen, exp, true
}

// DownloadLink is one digital line's current link.
type DownloadLink struct {
	Delivery     uuid.UUID `json:"id"`
	Order        uuid.UUID `json:"order_id"`
	Line         uuid.UUID `json:"line_id"`
	SKU          string    `json:"sku"`
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expires_at"`
	Downloads    int       `json:"downloads"`
	MaxDownloads int       `json:"max_downloads"`
}

// DownloadLinks returns the current links of an order's digital lines (none
// before it is paid).
func (s *Service) DownloadLinks(ctx context.Context, q eventstore.Querier, t tenant.ID, orderID uuid.UUID) ([]DownloadLink, error) {
	key, err := downloadKey(ctx, q, t)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, order_id, line_id, sku, generation, expires_at, downloads, max_downloads
FROM delivery_index WHERE tenant_id = $1 AND order_id = $2 ORDER BY issued_at, id`, t, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DownloadLink, error) {
		var l DownloadLink
		var gen int
		err := r.Scan(&l.Delivery, &l.Order, &l.Line, &l.SKU, &gen, &l.ExpiresAt, &l.Downloads, &l.MaxDownloads)
		l.ExpiresAt = l.ExpiresAt.UTC()
		l.Token = signDownload(key, t, l.Delivery, gen, l.ExpiresAt)
		return l, err
	})
}

// Download counts one download by token.
type Download struct {
	Tenant tenant.ID
	By     By
	Token  string
}

// DownloadFile is what a download serves.
type DownloadFile struct {
	File string
	SKU  string
}

// Download checks the link and records the download (an event), refused
// once the link expired, is used up or was replaced. check runs before
// anything is recorded (the file must be there). It returns
// ErrBadDownloadToken, delivery.ErrExpired, delivery.ErrUsedUp,
// delivery.ErrReplaced and check's error.
func (s *Service) Download(ctx context.Context, c Download, check func(DownloadFile) error) (DownloadFile, Result, error) {
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (DownloadFile, error) {
		key, err := downloadKey(ctx, tx, c.Tenant)
		if err != nil {
			return DownloadFile{}, err
		}
		id, gen, exp, ok := parseDownload(key, c.Tenant, c.Token)
		if !ok {
			return DownloadFile{}, ErrBadDownloadToken
		}
		d, err := deliveries.Load(ctx, tx, c.Tenant, id)
		if errors.Is(err, eventstore.ErrNotFound) {
			return DownloadFile{}, ErrBadDownloadToken
		}
		if err != nil {
			return DownloadFile{}, err
		}
		if !now.Before(exp) {
			return DownloadFile{}, delivery.ErrExpired
		}
		if err := d.Download(gen, now); err != nil {
			return DownloadFile{}, err
		}
		f := DownloadFile{File: d.Issued().File, SKU: d.Issued().SKU}
		if err := check(f); err != nil {
			return DownloadFile{}, err
		}
		if _, err := deliveries.Save(ctx, tx, c.Tenant, id, d, nil, c.By.metadata(c.Tenant)); err != nil {
			return DownloadFile{}, err
		}
		return f, indexDelivery(ctx, tx, c.Tenant, d)
	})
	return out, Result{Result: res}, err
}

// ReissueDelivery gives a delivery a new link: the shop's (or product's)
// download limit again, a new expiry, the old link void.
type ReissueDelivery struct {
	Tenant   tenant.ID
	By       By
	Delivery uuid.UUID
	Reason   string
}

// ReissueDelivery applies c and returns the new link. It returns
// ErrDeliveryNotFound.
func (s *Service) ReissueDelivery(ctx context.Context, c ReissueDelivery) (DownloadLink, Result, error) {
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (DownloadLink, error) {
		d, err := deliveries.Load(ctx, tx, c.Tenant, c.Delivery)
		if errors.Is(err, eventstore.ErrNotFound) {
			return DownloadLink{}, ErrDeliveryNotFound
		}
		if err != nil {
			return DownloadLink{}, err
		}
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return DownloadLink{}, err
		}
		set := t.Settings()
		ttl, max := set.DigitalURLTTLHours, set.DigitalMaxDownloads
		if p, err := products.Read(ctx, tx, c.Tenant, d.Issued().Product); err == nil && p.Digital() != nil {
			if p.Digital().URLTTLHours > 0 {
				ttl = p.Digital().URLTTLHours
			}
			if p.Digital().MaxDownloads > 0 {
				max = p.Digital().MaxDownloads
			}
		}
		d.Reissue(max, now.Add(time.Duration(ttl)*time.Hour), c.Reason, now)
		if _, err := deliveries.Save(ctx, tx, c.Tenant, c.Delivery, d, nil, c.By.metadata(c.Tenant)); err != nil {
			return DownloadLink{}, err
		}
		if err := indexDelivery(ctx, tx, c.Tenant, d); err != nil {
			return DownloadLink{}, err
		}
		key, err := downloadKey(ctx, tx, c.Tenant)
		if err != nil {
			return DownloadLink{}, err
		}
		is := d.Issued()
		return DownloadLink{Delivery: is.ID, Order: is.Order, Line: is.Line, SKU: is.SKU, Token: signDownload(key, c.Tenant, is.ID, d.Generation(), d.ExpiresAt()),
			ExpiresAt: d.ExpiresAt(), MaxDownloads: max}, nil
	})
	return out, Result{Result: res, ID: c.Delivery}, err
}
