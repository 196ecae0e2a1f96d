package rmq.interop;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.common.message.MessageExt;

/** Counts what a consumer received: distinct messages, duplicates, wrong tags, order. */
public final class Collector {
    private final Set<String> allowedTags;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    public final AtomicLong received = new AtomicLong();
    public final AtomicLong duplicates = new AtomicLong();
    public final AtomicLong wrongTag = new AtomicLong();
    public final AtomicLong orderViolations = new AtomicLong();
    /** Per ordering key, the last sequence number seen. */
    private final Map<String, Long> lastSeq = new HashMap<>();
    private final List<MessageExt> messages = new ArrayList<>();

    /** {@code allowedTags} null accepts every tag. */
    public Collector(Set<String> allowedTags) {
        this.allowedTags = allowedTags;
    }

    public static Collector anyTag() {
        return new Collector(null);
    }

    public static Collector tags(String... tags) {
        return new Collector(new HashSet<>(List.of(tags)));
    }

    public void add(List<MessageExt> msgs) {
        for (MessageExt m : msgs) add(m);
    }

    public void add(MessageExt m) {
        String id = m.getMsgId();
        if (!seen.add(id)) {
            duplicates.incrementAndGet();
            return;
        }
        received.incrementAndGet();
        if (allowedTags != null && !allowedTags.contains(m.getTags())) {
            wrongTag.incrementAndGet();
        }
        synchronized (this) {
            messages.add(m);
            String key = m.getUserProperty("orderKey");
            String seq = m.getUserProperty("seq");
            if (key != null && seq != null) {
                long s = Long.parseLong(seq);
                Long last = lastSeq.get(key);
                if (last != null && s != last + 1) orderViolations.incrementAndGet();
                lastSeq.put(key, s);
            }
        }
    }

    public synchronized List<MessageExt> messages() {
        return new ArrayList<>(messages);
    }

    /** Adds the standard counts to {@code o}. */
    public Outcome report(Outcome o, long sent) {
        o.count("sent", sent).count("received", received.get()).count("dup", duplicates.get())
                .count("wrongTag", wrongTag.get()).count("orderViolations", orderViolations.get());
        return o.expectEq("duplicates", 0, duplicates.get())
                .expectEq("wrong tags", 0, wrongTag.get())
                .expectEq("order violations", 0, orderViolations.get());
    }
}
