// MongoDB stand-in for machines where no real mongod can be installed (see docs/operations.md).
// Run as a single-file program (Java 11+), classpath from libs/dev-infra/java/mongo/pom.xml:
//
//   java -cp <classpath> libs/dev-infra/java/mongo/MongoStandIn.java [--host 127.0.0.1] [--port 27017]
//        [--backend memory|h2] [--file <path.mv>] [--server-version 5.0] [--exit-on-stdin-eof true]
//
// Prints one "listening" line once the port is bound (@funnel/dev-infra still waits for a driver ping).
// SIGTERM/SIGINT close the backend, which for h2 writes everything to the file.
// @funnel/dev-infra compiles this file once and caches the class (a source launch costs ~0.7 s more per start).

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.h2.mvstore.MVStore;

public class MongoStandIn {

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        String host = opts.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(opts.getOrDefault("port", "27017"));
        String backendName = opts.getOrDefault("backend", "memory");

        // 5.0 is mongo-java-server's own default and reports wire version 8: the mongodb driver 6.x that
        // mongoose 8 uses needs >= 8; driver 7.8+ (mongoose 9) needs >= 9 and refuses every choice here.
        ServerVersion version = switch (opts.getOrDefault("server-version", "5.0")) {
            case "3.6" -> ServerVersion.MONGO_3_6;
            case "4.0" -> ServerVersion.MONGO_4_0;
            case "5.0" -> ServerVersion.MONGO_5_0;
            default -> throw usage("--server-version must be 3.6, 4.0 or 5.0");
        };

        MongoBackend backend;
        String where;
        switch (backendName) {
            case "memory" -> {
                backend = new MemoryBackend();
                where = "in memory";
            }
            case "h2" -> {
                String file = opts.get("file");
                if (file == null) throw usage("--backend h2 needs --file <path>");
                File parent = new File(file).getAbsoluteFile().getParentFile();
                if (parent != null) parent.mkdirs();
                // H2Backend only commits on close(); MVStore's background auto-commit is what bounds the loss
                // on SIGKILL. 100 ms matches mongod's default journal commit interval.
                MVStore store = new MVStore.Builder().fileName(file).autoCommitBufferSize(1024).open();
                store.setAutoCommitDelay(100);
                backend = new H2Backend(store);
                where = "in " + new File(file).getAbsolutePath();
            }
            default -> throw usage("--backend must be memory or h2");
        }
        backend.version(version);

        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        System.out.printf("mongo-java-server listening on %s:%d, backend %s (data %s), reports MongoDB %s, wire version %d%n",
                host, port, backendName, where, version.toVersionString(), version.getWireVersion());
        System.out.flush();

        if (Boolean.parseBoolean(opts.getOrDefault("exit-on-stdin-eof", "false"))) {
            // @funnel/dev-infra keeps a pipe to our stdin: when it closes, the Node process that started us is gone
            // (even by SIGKILL), so stop rather than linger as an orphan holding the port.
            Thread watcher = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // input is not used; only its end matters
                    }
                } catch (java.io.IOException ignored) {
                    // a broken pipe means the same as end of input
                }
                System.exit(0);
            }, "funnel-parent-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // shutdownNow closes client connections and the backend (h2: final commit and file close).
            server.shutdownNow();
            System.out.println("mongo-java-server stopped");
            System.out.flush();
            stopped.countDown();
        }, "mongo-stand-in-shutdown"));
        stopped.await();
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw usage("unexpected argument " + args[i]);
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }

    private static IllegalArgumentException usage(String message) {
        return new IllegalArgumentException(message + "\nusage: MongoStandIn [--host H] [--port P] "
                + "[--backend memory|h2] [--file PATH] [--server-version 3.6|4.0|5.0] [--exit-on-stdin-eof true|false]");
    }
}
