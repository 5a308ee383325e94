package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BreakdownTest {

  private static Breakdown.Part of(String stack) {
    return Breakdown.classify(stack.split(";"));
  }

  @Test
  void aSampleGoesToTheSyscallItIsIn() {
    assertEquals(Breakdown.Part.SOCKET_WRITES, of("io/agserver/transport/Senders$Sender.run;com/ibm/ws/wsoc/WsocConnLink.write;"
        + "sun/nio/ch/FileDispatcherImpl.writev0;__GI___writev;entry_SYSCALL_64_after_hwframe_[k];tcp_sendmsg_[k]"));
    assertEquals(Breakdown.Part.SOCKET_READS, of("com/ibm/ws/tcpchannel/internal/ChannelSelector.run;epoll_wait;do_epoll_wait_[k]"));
    assertEquals(Breakdown.Part.THREAD_WAKEUPS, of("java/lang/Thread.run;__futex_abstimed_wait_common;futex_wait_[k];schedule_[k]"));
    assertEquals(Breakdown.Part.OTHER_KERNEL, of("[unknown];__GI_mprotect;do_mprotect_[k]"));
  }

  @Test
  void javaCodeGoesToTheNearestOwnerAboveTheLeaf() {
    // Jackson called by agserver is agserver's cost; agserver called back by Liberty is agserver's.
    assertEquals(Breakdown.Part.AGSERVER, of("com/ibm/ws/tcpchannel/internal/WorkQueueManager$Worker.run;"
        + "io/agserver/transport/AGEndpoint.onMessage;com/fasterxml/jackson/core/json/ReaderBasedJsonParser.nextToken"));
    assertEquals(Breakdown.Part.CONTAINER, of("io/agserver/transport/Senders$Sender.run;"
        + "com/ibm/ws/wsoc/MessageWriter.WriteMessage;java/util/concurrent/ConcurrentHashMap.get"));
    assertEquals(Breakdown.Part.JVM, of("start_thread;thread_native_entry;C2Compiler::compile_method;PhaseChaitin::Split"));
    assertEquals(Breakdown.Part.OTHER_JAVA, of("java/lang/Thread.run;java/util/TimerThread.mainLoop"));
  }

  @Test
  void countsAddUpPerPart() {
    Map<Breakdown.Part, Long> parts = Breakdown.of(List.of(
        "a/B.run;__GI___writev;tcp_sendmsg_[k] 70",
        "a/B.run;io/agserver/X.y 20",
        "a/B.run;io/agserver/X.z 5",
        "not a sample line",
        "start_thread;GC::collect 5"));
    assertEquals(70L, parts.get(Breakdown.Part.SOCKET_WRITES));
    assertEquals(25L, parts.get(Breakdown.Part.AGSERVER));
    assertEquals(5L, parts.get(Breakdown.Part.JVM));
    assertEquals(3, parts.size());
  }
}
