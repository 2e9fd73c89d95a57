// centrifuge-server: the Centrifugo peer bench/run compares chatpipe with. Centrifugo's own module
// is not served by the Go module proxy here, so this is Centrifugo's engine, the centrifuge library
// (go.mod pins it; fetched from the proxy at bench time, never committed), set up the way Centrifugo
// runs a namespace with its Redis engine and defaults:
//   - centrifuge.Node with RedisBroker (PUB/SUB) and RedisPresenceManager on one Redis shard
//     (Centrifugo's `engine: redis`); presence, join/leave and history stay off, as in a namespace
//     that does not enable them, so the presence manager is never called and nothing is stored;
//   - anonymous connections accepted without a token (Centrifugo's client.insecure);
//   - client-side subscribe and publish allowed on any channel (allow_subscribe_for_client,
//     allow_publish_for_client); a client's publication carries its ClientInfo, as Centrifugo's do;
//   - Centrifuge protocol v2 over the library's WebSocket handler, JSON by default, on
//     /connection/websocket (Centrifugo's path), with the library's default pings (every 25 s,
//     answered by the client) and limits (1 MB client queue, 1 s write timeout).
//
// A publish is acked ({"id":N,"publish":{}}) once Redis accepted it, and every subscriber of the
// channel, the publisher too, gets {"push":{"channel":..,"pub":{"data":..,"info":{..}}}}.
//
// Usage: centrifuge-server --redis HOST:PORT [--port N] [--prefix P]
//
//	(--port 0: a free port; prints "listening on 0.0.0.0:PORT"; --prefix: the Redis key and
//	channel prefix, so runs sharing a Redis do not see each other)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("centrifuge-server: ")
	port := flag.Int("port", 0, "TCP port (0: a free one)")
	redis := flag.String("redis", os.Getenv("CHATPIPE_REDIS"), "Redis HOST:PORT (default $CHATPIPE_REDIS)")
	prefix := flag.String("prefix", "centrifuge", "Redis key and channel prefix")
	flag.Parse()
	if *port < 0 || *port > 65535 {
		fail(fmt.Errorf("--port must be 0..65535, got %d", *port))
	}
	if _, _, err := net.SplitHostPort(*redis); err != nil {
		fail(fmt.Errorf("--redis HOST:PORT (or CHATPIPE_REDIS) is required: %v", err))
	}

	node, err := newNode(*redis, *prefix)
	if err != nil {
		fail(err)
	}
	if err := node.Run(); err != nil {
		fail(fmt.Errorf("node: %w", err))
	}

	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		CheckOrigin: func(*http.Request) bool { return true },
	}))
	listener, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", *port))
	if err != nil {
		fail(err)
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(err)
		}
	}()
	log.Printf("%d listening on %s (centrifuge %s, redis %s, prefix %s)", os.Getpid(), listener.Addr(), libraryVersion(), *redis, *prefix)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(ctx)
	_ = node.Shutdown(ctx)
}

func newNode(redisAddress, prefix string) (*centrifuge.Node, error) {
	node, err := centrifuge.New(centrifuge.Config{
		LogLevel: centrifuge.LogLevelWarn,
		LogHandler: func(e centrifuge.LogEntry) {
			log.Printf("%s %v", e.Message, e.Fields)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{Address: redisAddress})
	if err != nil {
		return nil, fmt.Errorf("redis shard %s: %w", redisAddress, err)
	}
	shards := []*centrifuge.RedisShard{shard}
	broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Prefix: prefix, Shards: shards})
	if err != nil {
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	node.SetBroker(broker)
	presence, err := centrifuge.NewRedisPresenceManager(node, centrifuge.RedisPresenceManagerConfig{Prefix: prefix, Shards: shards})
	if err != nil {
		return nil, fmt.Errorf("redis presence manager: %w", err)
	}
	node.SetPresenceManager(presence)

	// client.insecure: any connection is an anonymous user.
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: ""}}, nil
	})
	node.OnConnect(func(client *centrifuge.Client) {
		client.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil) // no presence, join/leave, positioning or recovery
		})
		client.OnPublish(func(e centrifuge.PublishEvent, cb centrifuge.PublishCallback) {
			// The library publishes through the broker, without history, and then replies.
			cb(centrifuge.PublishReply{Options: centrifuge.PublishOptions{ClientInfo: e.ClientInfo}}, nil)
		})
	})
	return node, nil
}

// libraryVersion is the centrifuge module version this binary was built with.
func libraryVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/centrifugal/centrifuge" {
				return dep.Version
			}
		}
	}
	return "(unknown)"
}

func fail(err error) {
	log.Print(err)
	os.Exit(2)
}
