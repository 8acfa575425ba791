/*
 * A stand-in for libgupnp-igd-1.0.so.4 that maps no port, for running
 * Debian bookworm's whip-client (package simple-whip-client) in the tests.
 *
 * whip-client links libsoup 2.4, and libnice, which its webrtcbin loads,
 * links libgupnp-igd, which links libgupnp 1.6 and so libsoup 3; libsoup 3
 * aborts a process that has libsoup 2 in it ("libsoup2 symbols detected"),
 * so whip-client dies before it sends its offer. UPnP port mapping is of no
 * use on one machine: these four functions, all libnice calls, do nothing,
 * and the test puts this library first on whip-client's LD_LIBRARY_PATH.
 * The ICE, DTLS, RTP and WHIP code that runs is Debian's own.
 */
void *gupnp_simple_igd_thread_new(void) { return 0; }
unsigned long gupnp_simple_igd_get_type(void) { return 0; }
void gupnp_simple_igd_add_port(void *igd) { (void)igd; }
void gupnp_simple_igd_remove_port_local(void *igd) { (void)igd; }
