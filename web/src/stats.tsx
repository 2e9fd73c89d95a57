// A room's analytics: messages and active users, and sentiment (mean score, share of negative
// messages, profanity rate) over a chosen range as uPlot charts, with the range's totals and its most
// mentioned users (GET /api/rooms/{id}/stats, docs/protocol.md). The bucket follows the range, so a
// chart never has more points than the server allows.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RoomStats } from './api';
import type { ChatClient } from './client';

const HOUR = 3_600_000;
const RANGES = [
  { key: '6h', label: '6 hours', ms: 6 * HOUR, bucket: 'minute' },
  { key: '24h', label: '24 hours', ms: 24 * HOUR, bucket: 'hour' },
  { key: '7d', label: '7 days', ms: 7 * 24 * HOUR, bucket: 'hour' },
  { key: '30d', label: '30 days', ms: 30 * 24 * HOUR, bucket: 'day' },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];

export function RoomStatsView({ client, room }: { client: ChatClient; room: number }) {
  const [range, setRange] = useState<RangeKey>('24h');
  const [stats, setStats] = useState<RoomStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const chosen = RANGES.find((r) => r.key === range)!;
    const to = Date.now();
    let live = true;
    setError(null);
    client.api
      .roomStats(room, to - chosen.ms, to, chosen.bucket)
      .then((s) => live && setStats(s))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [client, room, range]);

  return (
    <div class="stats" aria-label="Room analytics">
      <div class="stats-range" role="group" aria-label="Range">
        {RANGES.map((r) => (
          <button type="button" key={r.key} aria-pressed={r.key === range} onClick={() => setRange(r.key)}>
            {r.label}
          </button>
        ))}
      </div>
      {error && (
        <p class="room-error" role="alert">
          {error}
        </p>
      )}
      {stats && (
        <>
          <Totals stats={stats} />
          <Chart
            title="Volume"
            stats={stats}
            series={[
              { label: 'messages', stroke: '#1f6feb', fill: 'rgba(31,111,235,0.15)', value: (b) => b.messages },
              { label: 'active users', stroke: '#1a7f37', value: (b) => b.active_users },
            ]}
          />
          <Chart
            title="Sentiment"
            stats={stats}
            range={[-1, 1]}
            series={[
              { label: 'mean sentiment', stroke: '#8250df', value: (b) => b.mean_sentiment },
              { label: 'negative share', stroke: '#c62828', value: (b) => b.negative_share },
              { label: 'profanity rate', stroke: '#bf8700', value: (b) => b.profanity_rate },
            ]}
          />
          <TopMentioned stats={stats} />
        </>
      )}
    </div>
  );
}

function percent(x: number | null) {
  return x === null ? '–' : `${Math.round(x * 1000) / 10}%`;
}

function Totals({ stats }: { stats: RoomStats }) {
  const t = stats.totals;
  return (
    <dl class="stats-totals">
      <div>
        <dt>messages</dt>
        <dd data-total="messages">{t.messages}</dd>
      </div>
      <div>
        <dt>peak active users</dt>
        <dd data-total="peak_active_users">{Math.max(0, ...stats.buckets.map((b) => b.active_users))}</dd>
      </div>
      <div>
        <dt>mean sentiment</dt>
        <dd>{t.mean_sentiment === null ? '–' : t.mean_sentiment.toFixed(2)}</dd>
      </div>
      <div>
        <dt>negative</dt>
        <dd>{percent(t.negative_share)}</dd>
      </div>
      <div>
        <dt>profanity</dt>
        <dd>{percent(t.profanity_rate)}</dd>
      </div>
    </dl>
  );
}

type Bucket = RoomStats['buckets'][number];
interface Line {
  label: string;
  stroke: string;
  fill?: string;
  value: (b: Bucket) => number | null;
}

// One uPlot chart, as wide as its box; rebuilt when the data changes, resized with the box.
function Chart({ title, stats, series, range }: { title: string; stats: RoomStats; series: Line[]; range?: [number, number] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const data: uPlot.AlignedData = [
      stats.buckets.map((b) => b.start / 1000),
      ...series.map((s) => stats.buckets.map((b) => s.value(b))),
    ];
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height: 200,
        scales: range ? { y: { range } } : undefined,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 2, spanGaps: true }))],
        axes: [{ stroke: '#5c6670' }, { stroke: '#5c6670' }],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [stats]);
  return (
    <figure class="stats-chart">
      <figcaption>{title}</figcaption>
      <div ref={box} data-chart={title.toLowerCase()} />
    </figure>
  );
}

function TopMentioned({ stats }: { stats: RoomStats }) {
  return (
    <section class="stats-mentioned" aria-label="Most mentioned">
      <h3>Most mentioned</h3>
      {stats.top_mentioned.length === 0 ? (
        <p class="placeholder">Nobody was @mentioned in this range.</p>
      ) : (
        <ol>
          {stats.top_mentioned.map((m) => (
            <li key={m.user.id}>
              <span class="name">@{m.user.name}</span> <span class="count">{m.mentions}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
