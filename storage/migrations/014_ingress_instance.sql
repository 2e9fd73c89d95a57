-- Message ids embed the number of the ingress that stamped them (common/message_id.h); each ingress
-- takes the next number at start-up. A sequence, not a Redis counter: it survives a Redis restart and
-- a change of Redis shards, either of which would start a counter again at 1 and give a new ingress the
-- number of one still running, so two of them could stamp the same id.
CREATE SEQUENCE IF NOT EXISTS ingress_instance;
