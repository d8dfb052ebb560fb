"""Both servers killed without warning in the middle of conversations and of the contact form: after
a restart every conversation goes on where it was, and every stored request is still there."""
import os
import signal
from pathlib import Path

from clinic.lead_store import LeadStore
from clinic.serve import Assistant
from conftest import Visitor, fill_form, texts


def crash(server: Assistant) -> None:
    for process in server.processes:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    server.processes.clear()


def test_killed_servers_lose_nothing(tmp_path: Path) -> None:
    server = Assistant(rasa_port=5805, action_port=5855, database=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       log_dir=tmp_path / "logs")
    with server:
        booked = Visitor(server, "restart-booked")
        fill_form(booked)
        booked.say("yes, send it")
        in_form = Visitor(server, "restart-in-form")
        in_form.say("can someone call me back")
        in_form.say("Ben Okafor")
        asking = Visitor(server, "restart-asking")
        asking.say("is it addictive?")

        crash(server)
        server.start()

        # The form asks for the next detail, not the name again.
        assert "good time" in texts(in_form.say("ben@example.com"))
        assert "What would you like to talk about" in texts(in_form.say("evenings"))
        in_form.say("skip")
        in_form.say("yes")
        assert "Thank you, Ben Okafor" in texts(in_form.say("yes"))
        assert any(e.get("text") == "is it addictive?" for e in asking.tracker()["events"])
        assert "Source" in texts(asking.say("how long does it last?"))

    leads = {lead.name: lead for lead in LeadStore(server.database).list()}
    assert set(leads) == {"Ana Lopez", "Ben Okafor"}
    assert leads["Ana Lopez"].phone == "+15552345678" and leads["Ben Okafor"].email == "ben@example.com"
