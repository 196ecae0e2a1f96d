import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Waits until a broker is registered with a name server, asking the name server the way
 * {@code mqadmin clusterList} does (GET_BROKER_CLUSTER_INFO, request code 106) over RocketMQ's
 * remoting protocol with a JSON header. Needs no RocketMQ jar, so one file serves every version:
 *
 * <pre>java WaitForBroker.java NS_HOST:PORT BROKER_HOST:PORT TIMEOUT_MS [PID ...]</pre>
 *
 * Exits 0 once the name server's broker table lists BROKER_HOST:PORT; 1 when TIMEOUT_MS pass
 * first or one of the PIDs (the daemons) exits, saying what it saw last.
 */
public final class WaitForBroker {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: WaitForBroker NS_HOST:PORT BROKER_HOST:PORT TIMEOUT_MS [PID ...]");
            System.exit(2);
        }
        String ns = args[0];
        String broker = args[1];
        long deadline = System.currentTimeMillis() + Long.parseLong(args[2]);
        String last = "nothing asked yet";
        int opaque = 0;
        while (true) {
            for (int i = 3; i < args.length; i++) {
                long pid = Long.parseLong(args[i]);
                if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    System.err.println("process " + pid + " exited while waiting for " + broker + " in " + ns);
                    System.exit(1);
                }
            }
            try {
                String body = clusterInfo(ns, ++opaque);
                if (body.contains("\"" + broker + "\"")) {
                    System.out.println(broker + " is registered with " + ns);
                    return;
                }
                last = "name server answered without " + broker + ": " + body;
            } catch (Exception e) {
                last = "name server " + ns + ": " + e;
            }
            if (System.currentTimeMillis() >= deadline) {
                System.err.println("timed out waiting for " + broker + " in " + ns + "; last: " + last);
                System.exit(1);
            }
            Thread.sleep(200);
        }
    }

    /** One GET_BROKER_CLUSTER_INFO round trip; returns the response body (JSON). */
    static String clusterInfo(String ns, int opaque) throws Exception {
        int colon = ns.lastIndexOf(':');
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ns.substring(0, colon), Integer.parseInt(ns.substring(colon + 1))), 1000);
            s.setSoTimeout(3000);
            byte[] header = ("{\"code\":106,\"flag\":0,\"language\":\"JAVA\",\"opaque\":" + opaque
                    + ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":401}").getBytes(StandardCharsets.UTF_8);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(4 + header.length); // length of what follows: header length field + header
            out.writeInt(header.length);      // serialize type JSON (0) in the high byte
            out.write(header);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int length = in.readInt();
            int headerLength = in.readInt() & 0xFFFFFF;
            byte[] responseHeader = new byte[headerLength];
            in.readFully(responseHeader);
            byte[] body = new byte[length - 4 - headerLength];
            in.readFully(body);
            String h = new String(responseHeader, StandardCharsets.UTF_8);
            if (!h.replace(" ", "").contains("\"code\":0")) {
                throw new IllegalStateException("answered " + h);
            }
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
