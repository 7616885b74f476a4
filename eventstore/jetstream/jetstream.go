// Package jetstream fans the committed event feed out on NATS JetStream, an
// optional transport beside the PostgreSQL feed.
//
// A relay (Relay, a bus handler that always reads the PostgreSQL feed, in
// commit order) publishes each event to the subject
// honten.<tenant>.<stream_type> of the stream HONTEN, with the event id as
// its Nats-Msg-Id: a relay that crashes after publishing and before
// recording its offset publishes the same events again, and JetStream's
// duplicate window drops them. The reactive handlers can then read
// JetStream instead of PostgreSQL (Subscribe, as bus.Options.Subscribe):
// one durable consumer per handler and topic, one message in flight at a
// time (order per stream), acknowledged once handled or poisoned — the
// same at-least-once contract as the PostgreSQL feed, so handlers stay
// idempotent the same way.
//
// The client is watermill's NATS adapter (watermill-nats).
package jetstream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
)

// Stream is the JetStream stream holding the feed.
const Stream = "HONTEN"

// RelayName is the relay's consumer group on the PostgreSQL feed.
const RelayName = "jetstream_relay"

// Subject is the subject of an event of tenant t and stream type st.
func Subject(t tenant.ID, st string) string { return "honten." + t.String() + "." + st }

// Ensure creates the stream (subjects honten.>) or updates its duplicate
// window.
func Ensure(url string, duplicates time.Duration) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return fmt.Errorf("jetstream: connect: %w", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	cfg := &nats.StreamConfig{Name: Stream, Subjects: []string{"honten.>"}, Storage: nats.FileStorage, Duplicates: duplicates}
	if _, err := js.StreamInfo(Stream); err == nil {
		_, err = js.UpdateStream(cfg)
		if err != nil {
			return fmt.Errorf("jetstream: update stream: %w", err)
		}
		return nil
	}
	if _, err := js.AddStream(cfg); err != nil {
		return fmt.Errorf("jetstream: add stream: %w", err)
	}
	return nil
}

// subjectIsTopic makes a watermill topic the NATS subject itself.
func subjectIsTopic(_, topic string) *wnats.SubjectDetail {
	return &wnats.SubjectDetail{Primary: topic}
}

// Relay returns the relay handler publishing every event to JetStream, and
// a function closing its connection.
func Relay(url string, log watermill.LoggerAdapter) (bus.Handler, func() error, error) {
	pub, err := wnats.NewPublisher(wnats.PublisherConfig{URL: url, Marshaler: &wnats.NATSMarshaler{}, SubjectCalculator: subjectIsTopic,
		JetStream: wnats.JetStreamConfig{TrackMsgId: true}}, log)
	if err != nil {
		return bus.Handler{}, nil, fmt.Errorf("jetstream: publisher: %w", err)
	}
	h := bus.Handler{Name: RelayName, Topics: []string{bus.TopicAll}, FromPostgres: true,
		Handle: func(ctx context.Context, env eventstore.Envelope) error {
			// Published synchronously: the offset moves on only once
			// JetStream has stored the event, so the order is the feed's.
			return pub.Publish(Subject(env.Tenant, env.StreamType), Message(env))
		}}
	return h, pub.Close, nil
}

// Message is env as a watermill message: the event id as its UUID (hence
// Nats-Msg-Id), the payload as its body, the envelope in the metadata keys
// bus.Envelope reads back.
func Message(env eventstore.Envelope) *message.Message {
	msg := message.NewMessage(env.EventID.String(), message.Payload(env.Payload))
	md := msg.Metadata
	md.Set(bus.KeyEventType, env.Type)
	md.Set(bus.KeySchemaVersion, strconv.Itoa(env.SchemaVersion))
	md.Set(bus.KeyTenant, env.Tenant.String())
	md.Set(bus.KeyStreamType, env.StreamType)
	md.Set(bus.KeyStreamID, env.StreamID.String())
	md.Set(bus.KeyStreamVersion, strconv.FormatInt(env.Version, 10))
	md.Set(bus.KeyPosition, strconv.FormatInt(env.Position.Pos, 10))
	md.Set(bus.KeyTxID, strconv.FormatUint(env.Position.Tx, 10))
	md.Set(bus.KeyActor, env.Actor)
	md.Set(bus.KeyCorrelation, env.CorrelationID.String())
	if env.CausationID != [16]byte{} {
		md.Set(bus.KeyCausation, env.CausationID.String())
	}
	md.Set(bus.KeyRecordedAt, env.RecordedAt.UTC().Format(time.RFC3339Nano))
	return msg
}

// Durable is the durable consumer name of a handler's topic.
func Durable(group, topic string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_").Replace(group + "__" + topic)
}

// Subscribe returns a bus.Options.Subscribe reading JetStream at url.
// ackWait bounds a message's handling (retries included) before JetStream
// redelivers it; give it the worker's RetryFor and a margin.
func Subscribe(url string, ackWait time.Duration, log watermill.LoggerAdapter) func(group, topic string) (message.Subscriber, string, error) {
	return func(group, topic string) (message.Subscriber, string, error) {
		subject := "honten.*." + topic
		if topic == bus.TopicAll {
			subject = "honten.>"
		}
		durable := Durable(group, topic)
		// The consumer is made here and bound to, not made by the
		// subscription: a subscription deletes a consumer it made when it
		// closes, and the durable position must outlive the process.
		if err := ensureConsumer(url, durable, subject, ackWait); err != nil {
			return nil, "", err
		}
		sub, err := wnats.NewSubscriber(wnats.SubscriberConfig{URL: url, SubscribersCount: 1, AckWaitTimeout: ackWait, CloseTimeout: 10 * time.Second,
			Unmarshaler: &wnats.NATSMarshaler{}, SubjectCalculator: subjectIsTopic,
			JetStream: wnats.JetStreamConfig{DurablePrefix: durable, DurableCalculator: func(prefix, _ string) string { return prefix },
				SubscribeOptions: []nats.SubOpt{nats.Bind(Stream, durable), nats.ManualAck()}}}, log)
		if err != nil {
			return nil, "", fmt.Errorf("jetstream: subscriber %s: %w", durable, err)
		}
		return sub, subject, nil
	}
}

// ensureConsumer creates the durable push consumer of subject unless it
// exists: from the start of the stream, explicit acks, one message in
// flight (the order of each stream is kept), redelivered after ackWait.
func ensureConsumer(url, durable, subject string, ackWait time.Duration) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return fmt.Errorf("jetstream: connect: %w", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.ConsumerInfo(Stream, durable); err == nil {
		return nil
	}
	_, err = js.AddConsumer(Stream, &nats.ConsumerConfig{Durable: durable, FilterSubject: subject, DeliverSubject: "honten-deliver." + durable,
		DeliverPolicy: nats.DeliverAllPolicy, AckPolicy: nats.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: 1, MaxDeliver: -1})
	if err != nil {
		return fmt.Errorf("jetstream: consumer %s: %w", durable, err)
	}
	return nil
}
