-- Promotions and coupon codes. The promotion streams (promotion.*) and the
-- orders' placed events (their redeemed promotions) are the truth; these
-- tables are the command side's indexes, written in the same transaction
-- as the events they follow, like reservation_index. Row-level security
-- applies through rls_apply (tenant_id).

-- One row per promotion: its current spec, for the admin list and for
-- pricing carts and checkouts.
CREATE TABLE promotion_index (
    tenant_id  uuid        NOT NULL,
    id         uuid        NOT NULL,
    version    bigint      NOT NULL,
    title      text        NOT NULL,
    spec       jsonb       NOT NULL,
    automatic  boolean     NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX promotion_index_auto_ix ON promotion_index (tenant_id) WHERE automatic AND NOT deleted;

-- Every code, shared (a promotion's codes) or unique (generated in bulk,
-- single-use: order_id is the order that redeemed it).
CREATE TABLE promotion_codes (
    tenant_id    uuid    NOT NULL,
    code         text    NOT NULL,
    promotion_id uuid    NOT NULL,
    job_id       uuid,
    seq          int,
    order_id     uuid,
    PRIMARY KEY (tenant_id, code)
);
CREATE INDEX promotion_codes_job_ix ON promotion_codes (tenant_id, promotion_id, job_id, seq);

-- Redemptions counted per promotion: checkout increments used under the
-- row's lock in the order's transaction (never above usage_limit), a
-- cancellation gives the use back.
CREATE TABLE promotion_usage (
    tenant_id    uuid   NOT NULL,
    promotion_id uuid   NOT NULL,
    used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (tenant_id, promotion_id)
);

-- Redemptions per buyer: buyer is "email:<hex SHA-256 of the normalised
-- address>" for guests (no address in clear), "customer:<id>" for accounts.
CREATE TABLE promotion_buyer_usage (
    tenant_id    uuid   NOT NULL,
    promotion_id uuid   NOT NULL,
    buyer        text   NOT NULL,
    used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (tenant_id, promotion_id, buyer)
);

-- What each order redeemed, so its cancellation gives exactly that back.
CREATE TABLE promotion_redemptions (
    tenant_id    uuid        NOT NULL,
    order_id     uuid        NOT NULL,
    promotion_id uuid        NOT NULL,
    code         text,
    buyer        text        NOT NULL,
    redeemed_at  timestamptz NOT NULL,
    released_at  timestamptz,
    PRIMARY KEY (tenant_id, order_id, promotion_id)
);

-- The codes a cart carries (cart.coupon_applied / cart.coupon_removed).
CREATE TABLE cart_coupons (
    tenant_id  uuid        NOT NULL,
    cart_id    uuid        NOT NULL,
    code       text        NOT NULL,
    applied_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, cart_id, code)
);
