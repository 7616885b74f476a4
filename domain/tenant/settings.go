package tenant

import (
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

// Settings are a tenant's commercial settings: how it is paid, what it
// charges for shipping and COD, how long stock is held, how tax is rounded.
type Settings struct {
	// BankAccount is shown to bank-transfer buyers; nil until configured
	// (bank transfer is unavailable without it).
	BankAccount *BankAccount `json:"bank_account"`
	// TransferDeadlineDays is how long a bank-transfer order waits for payment (order day = day 1).
	TransferDeadlineDays int `json:"transfer_deadline_days"`
	// ShippingFee is the flat shipping fee per order, tax included.
	ShippingFee money.Money `json:"shipping_fee"`
	// FreeShippingOver waives the shipping fee when the merchandise total
	// reaches it; zero means shipping is never free.
	FreeShippingOver money.Money `json:"free_shipping_over"`
	// CODFees are the cash-on-delivery fee tiers by order total, ascending;
	// totals above the last tier cannot be paid by COD (carriers cap it).
	CODFees []CODTier `json:"cod_fees"`
	// ReservationTTLMinutes is how long a cart's stock hold lasts.
	ReservationTTLMinutes int `json:"reservation_ttl_minutes"`
	// Tax is how prices carry consumption tax and how tax is rounded.
	Tax TaxSettings `json:"tax"`
	// DigitalURLTTLHours and DigitalMaxDownloads are the store defaults for
	// digital goods' download links (a product may override them).
	DigitalURLTTLHours  int `json:"digital_url_ttl_hours"`
	DigitalMaxDownloads int `json:"digital_max_downloads"`
	// OrderNumberPrefix starts human order numbers ("HT" → HT-000123).
	OrderNumberPrefix string `json:"order_number_prefix"`
	// Hosts are storefront host names mapped to this tenant.
	Hosts []string `json:"hosts"`
	// MaxLineQuantity caps the quantity of one cart line.
	MaxLineQuantity int `json:"max_line_quantity"`
	// MaxHotLineQuantity caps a cart line of a hot (flash-sale) variant.
	MaxHotLineQuantity int `json:"max_hot_line_quantity"`
	// SKUQuantityCaps caps chosen SKUs per cart, over the caps above.
	SKUQuantityCaps map[string]int `json:"sku_quantity_caps"`
	// PaymentGraceHours is how long after a bank transfer's due date the
	// order still waits before it is cancelled unpaid (a transfer sent on the
	// due date is often credited the next banking day).
	PaymentGraceHours int `json:"payment_grace_hours"`
	// PayoutHoldDays is the return window: how long after a parcel's
	// delivery the vendor's money for it stays held before it is payable.
	PayoutHoldDays int `json:"payout_hold_days"`
	// TransferClientCode is the 委託者コード the shop's bank assigned for
	// 総合振込 transfer files (payout runs, refunds); empty until set.
	TransferClientCode string `json:"transfer_client_code"`
	// EmailTemplates override the built-in Japanese e-mails to buyers, by
	// template name (EmailTemplateNames); an empty part keeps the built-in
	// one. Subject and Text are text/template, HTML is html/template source.
	EmailTemplates map[string]EmailTemplate `json:"email_templates"`
}

// EmailTemplate is a shop's version of one e-mail.
type EmailTemplate struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// EmailTemplateNames are the e-mails a shop may override.
var EmailTemplateNames = []string{"order_placed_bank_transfer", "order_placed_cod", "payment_confirmed", "shipped",
	"transfer_reminder", "cancelled", "refund_paid", "customer_password_reset", "customer_verify_email"}

// Defaults of the settings added after the first release; settings
// recorded before them read as these.
const (
	DefaultMaxLineQuantity    = 99
	DefaultMaxHotLineQuantity = 10
	DefaultPaymentGraceHours  = 72
	// DefaultPayoutHoldDays is eight days, the statutory return period of
	// mail order in Japan when a shop states no return terms.
	DefaultPayoutHoldDays = 8
)

// UnmarshalJSON decodes settings, giving fields that were added after
// them (absent from older events) their defaults.
func (s *Settings) UnmarshalJSON(b []byte) error {
	type plain Settings
	p := plain{MaxLineQuantity: DefaultMaxLineQuantity, MaxHotLineQuantity: DefaultMaxHotLineQuantity,
		PaymentGraceHours: DefaultPaymentGraceHours, PayoutHoldDays: DefaultPayoutHoldDays, SKUQuantityCaps: map[string]int{}}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.SKUQuantityCaps == nil {
		p.SKUQuantityCaps = map[string]int{}
	}
	*s = Settings(p)
	return nil
}

// QuantityCap is the most of one SKU a cart line may hold: its own cap when
// set, else the hot-variant cap for a hot one, else the line cap.
func (s Settings) QuantityCap(sku string, hot bool) int64 {
	if n, ok := s.SKUQuantityCaps[sku]; ok && n > 0 {
		return int64(n)
	}
	if hot && s.MaxHotLineQuantity > 0 {
		return int64(s.MaxHotLineQuantity)
	}
	if s.MaxLineQuantity > 0 {
		return int64(s.MaxLineQuantity)
	}
	return DefaultMaxLineQuantity
}

// PayoutHold is PayoutHoldDays as a duration.
func (s Settings) PayoutHold() time.Duration {
	return time.Duration(s.PayoutHoldDays) * 24 * time.Hour
}

// PaymentGrace is PaymentGraceHours as a duration.
func (s Settings) PaymentGrace() time.Duration {
	return time.Duration(s.PaymentGraceHours) * time.Hour
}

// TaxSettings say how consumption tax is computed.
type TaxSettings struct {
	// PricesIncludeTax is true for Japanese B2C shops (総額表示).
	PricesIncludeTax bool `json:"prices_include_tax"`
	// Rounding applies once per tax rate per order; floor (切り捨て) by default.
	Rounding money.Rounding `json:"rounding"`
}

// CODTier charges Fee for order totals up to and including UpTo.
type CODTier struct {
	UpTo money.Money `json:"up_to"`
	Fee  money.Money `json:"fee"`
}

// BankAccount is the account buyers transfer to.
type BankAccount struct {
	BankName      string `json:"bank_name"`
	BankCode      string `json:"bank_code"`
	BranchName    string `json:"branch_name"`
	BranchCode    string `json:"branch_code"`
	AccountType   string `json:"account_type"`
	AccountNumber string `json:"account_number"`
	AccountHolder string `json:"account_holder"`
}

// Validate checks an account; field names carry prefix.
func (b BankAccount) Validate(prefix string) error {
	var v errs.Collector
	b.check(&v, prefix)
	return v.Err()
}

func (b BankAccount) check(v *errs.Collector, prefix string) {
	v.Check(b.BankName != "" && utf8.RuneCountInString(b.BankName) <= 60, prefix+"bank_name", "is required (≤ 60 characters)")
	v.Check(len(b.BankCode) == 4 && digitsRe.MatchString(b.BankCode), prefix+"bank_code", "must be 4 digits")
	v.Check(b.BranchName != "" && utf8.RuneCountInString(b.BranchName) <= 60, prefix+"branch_name", "is required (≤ 60 characters)")
	v.Check(len(b.BranchCode) == 3 && digitsRe.MatchString(b.BranchCode), prefix+"branch_code", "must be 3 digits")
	v.Check(accountTyp[b.AccountType], prefix+"account_type", "must be one of: ordinary, current, savings")
	v.Check(len(b.AccountNumber) == 7 && digitsRe.MatchString(b.AccountNumber), prefix+"account_number", "must be 7 digits")
	v.Check(b.AccountHolder != "" && utf8.RuneCountInString(b.AccountHolder) <= 48, prefix+"account_holder", "is required (≤ 48 characters)")
}

// DefaultSettings are a new tenant's settings in currency c: a 7-day
// transfer deadline, ¥800 shipping free from ¥10,000, the common COD fee
// tiers (¥330 up to ¥10,000 … ¥1,100 up to ¥300,000), 15-minute holds,
// tax-inclusive prices rounded down.
func DefaultSettings(c money.Currency) Settings {
	yen := func(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), c) }
	s := Settings{
		TransferDeadlineDays:  7,
		ReservationTTLMinutes: 15,
		Tax:                   TaxSettings{PricesIncludeTax: true, Rounding: money.RoundFloor},
		DigitalURLTTLHours:    72,
		DigitalMaxDownloads:   5,
		OrderNumberPrefix:     "HT",
		Hosts:                 []string{},
		MaxLineQuantity:       DefaultMaxLineQuantity,
		MaxHotLineQuantity:    DefaultMaxHotLineQuantity,
		SKUQuantityCaps:       map[string]int{},
		PaymentGraceHours:     DefaultPaymentGraceHours,
		PayoutHoldDays:        DefaultPayoutHoldDays,
	}
	if c == money.JPY {
		s.ShippingFee, s.FreeShippingOver = yen(800), yen(10000)
		s.CODFees = []CODTier{{yen(10000), yen(330)}, {yen(30000), yen(440)}, {yen(100000), yen(660)}, {yen(300000), yen(1100)}}
	} else {
		s.ShippingFee, s.FreeShippingOver = money.Zero(c), money.Zero(c)
		s.CODFees = []CODTier{}
	}
	return s
}

var (
	digitsRe   = regexp.MustCompile(`^[0-9]+$`)
	hostRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	prefixRe   = regexp.MustCompile(`^[A-Z]{1,6}$`)
	accountTyp = map[string]bool{"ordinary": true, "current": true, "savings": true}
)

// Validate checks s for a tenant trading in currency c and returns an
// Invalid error naming every bad field.
func (s Settings) Validate(c money.Currency) error {
	var v errs.Collector
	if s.BankAccount != nil {
		s.BankAccount.check(&v, "bank_account.")
	}
	v.Check(s.TransferDeadlineDays >= 1 && s.TransferDeadlineDays <= 60, "transfer_deadline_days", "must be between 1 and 60")
	checkMoney := func(field string, m money.Money) {
		switch {
		case m.Currency() != c:
			v.Add(field, "must be in "+string(c))
		case m.IsNegative():
			v.Add(field, "must not be negative")
		}
	}
	checkMoney("shipping_fee", s.ShippingFee)
	checkMoney("free_shipping_over", s.FreeShippingOver)
	for i, t := range s.CODFees {
		f := fmt.Sprintf("cod_fees[%d]", i)
		checkMoney(f+".up_to", t.UpTo)
		checkMoney(f+".fee", t.Fee)
		if i > 0 && t.UpTo.Currency() == c && s.CODFees[i-1].UpTo.Currency() == c {
			if cmp, _ := t.UpTo.Cmp(s.CODFees[i-1].UpTo); cmp <= 0 {
				v.Add(f+".up_to", "tiers must ascend")
			}
		}
	}
	v.Check(len(s.CODFees) <= 20, "cod_fees", "at most 20 tiers")
	v.Check(s.ReservationTTLMinutes >= 1 && s.ReservationTTLMinutes <= 24*60, "reservation_ttl_minutes", "must be between 1 and 1440")
	if _, err := money.ParseRounding(string(s.Tax.Rounding)); err != nil {
		v.Add("tax.rounding", "must be one of: floor, half_up, ceil")
	}
	v.Check(s.DigitalURLTTLHours >= 1 && s.DigitalURLTTLHours <= 24*90, "digital_url_ttl_hours", "must be between 1 and 2160")
	v.Check(s.DigitalMaxDownloads >= 1 && s.DigitalMaxDownloads <= 100, "digital_max_downloads", "must be between 1 and 100")
	v.Check(prefixRe.MatchString(s.OrderNumberPrefix), "order_number_prefix", "must be 1 to 6 capital letters")
	v.Check(s.MaxLineQuantity >= 1 && s.MaxLineQuantity <= 999, "max_line_quantity", "must be between 1 and 999")
	v.Check(s.MaxHotLineQuantity >= 1 && s.MaxHotLineQuantity <= 999, "max_hot_line_quantity", "must be between 1 and 999")
	v.Check(len(s.SKUQuantityCaps) <= 1000, "sku_quantity_caps", "at most 1000 SKUs")
	for sku, n := range s.SKUQuantityCaps {
		v.Check(n >= 1 && n <= 999, "sku_quantity_caps."+sku, "must be between 1 and 999")
	}
	v.Check(s.PaymentGraceHours >= 0 && s.PaymentGraceHours <= 24*30, "payment_grace_hours", "must be between 0 and 720")
	v.Check(s.PayoutHoldDays >= 0 && s.PayoutHoldDays <= 365, "payout_hold_days", "must be between 0 and 365")
	v.Check(s.TransferClientCode == "" || len(s.TransferClientCode) <= 10 && digitsRe.MatchString(s.TransferClientCode),
		"transfer_client_code", "must be up to 10 digits (the 委託者コード from the bank)")
	for name, t := range s.EmailTemplates {
		f := "email_templates." + name
		v.Check(slices.Contains(EmailTemplateNames, name), f, "is not an e-mail template: "+strings.Join(EmailTemplateNames, ", "))
		v.Check(utf8.RuneCountInString(t.Subject) <= 200 && !strings.ContainsAny(t.Subject, "\r\n"), f+".subject", "must be one line of at most 200 characters")
		v.Check(len(t.Text) <= 20000, f+".text", "must be at most 20000 bytes")
		v.Check(len(t.HTML) <= 50000, f+".html", "must be at most 50000 bytes")
		if _, err := texttemplate.New("").Parse(t.Subject); err != nil {
			v.Add(f+".subject", "is not a valid template: "+err.Error())
		}
		if _, err := texttemplate.New("").Parse(t.Text); err != nil {
			v.Add(f+".text", "is not a valid template: "+err.Error())
		}
		if _, err := htmltemplate.New("").Parse(t.HTML); err != nil {
			v.Add(f+".html", "is not a valid template: "+err.Error())
		}
	}
	v.Check(len(s.Hosts) <= 20, "hosts", "at most 20 hosts")
	seen := map[string]bool{}
	for i, h := range s.Hosts {
		if !hostRe.MatchString(h) || len(h) > 253 {
			v.Add(fmt.Sprintf("hosts[%d]", i), "must be a lower-case host name")
		}
		if seen[h] {
			v.Add(fmt.Sprintf("hosts[%d]", i), "is listed twice")
		}
		seen[h] = true
	}
	return v.Err()
}

// NormalizeHost lower-cases a Host header and drops its port.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// ErrCODUnavailable means the order total is above the last COD tier.
var ErrCODUnavailable = errs.Conflict("cod_unavailable", "cash on delivery is not available for this order total")

// CODFee returns the COD fee for an order total.
func (s Settings) CODFee(total money.Money) (money.Money, error) {
	for _, t := range s.CODFees {
		if cmp, err := total.Cmp(t.UpTo); err == nil && cmp <= 0 {
			return t.Fee, nil
		}
	}
	return money.Money{}, ErrCODUnavailable
}

// Shipping returns the shipping fee for a merchandise total.
func (s Settings) Shipping(merchandise money.Money) money.Money {
	if !s.FreeShippingOver.IsZero() {
		if cmp, err := merchandise.Cmp(s.FreeShippingOver); err == nil && cmp >= 0 {
			return money.Zero(merchandise.Currency())
		}
	}
	return s.ShippingFee
}
