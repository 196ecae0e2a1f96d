package rmq.interop;

import java.util.ArrayList;
import java.util.List;

/** What a check counted and whether that is what was promised. */
public final class Outcome {
    private final List<String> problems = new ArrayList<>();
    private final StringBuilder counts = new StringBuilder();

    /** Records a count that appears in the result line. */
    public Outcome count(String what, long n) {
        if (counts.length() > 0) counts.append(' ');
        counts.append(what).append('=').append(n);
        return this;
    }

    /** Records a failure unless {@code ok}. */
    public Outcome expect(boolean ok, String problem) {
        if (!ok) problems.add(problem);
        return this;
    }

    /** Records that {@code actual} must equal {@code expected}. */
    public Outcome expectEq(String what, long expected, long actual) {
        return expect(expected == actual, what + ": expected " + expected + ", got " + actual);
    }

    public boolean passed() {
        return problems.isEmpty();
    }

    public String counts() {
        return counts.toString();
    }

    public List<String> problems() {
        return problems;
    }
}
