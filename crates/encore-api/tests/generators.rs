//! The generators listing: what each generator makes, its parameter schema and its limits,
//! as clients read them to build creation forms; and the same schemas in the OpenAPI document.

mod common;

use serde_json::Value;

story!(generators_are_listed_with_their_parameter_schemas, |app| {
    let fan = app.key("fan", &[]).await;
    let list = app.get("/v1/generators", &fan).await;
    let body = list.ok(200);
    let items = body["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["cover", "mashup", "remix"], "{body}");
    for g in items {
        assert_eq!(g["execution"], "local", "{g}");
        assert!(g["params"]["properties"].is_object(), "{g}");
        assert!(g["limits"]["inputs_max"].as_u64() >= Some(1), "{g}");
    }
    let remix = app.get("/v1/generators/remix", &fan).await;
    let remix = remix.ok(200);
    assert_eq!(remix["use"], "remix");
    let tempo = &remix["params"]["properties"]["tempo"];
    assert_eq!(tempo["minimum"], 0.5, "{remix}");
    assert_eq!(tempo["maximum"], 2.0, "{remix}");
    let cover = app.get("/v1/generators/cover", &fan).await;
    assert_eq!(cover.ok(200)["use"], "cover");
    let mashup = app.get("/v1/generators/mashup", &fan).await;
    let mashup = mashup.ok(200);
    assert_eq!(mashup["use"], "mashup");
    assert_eq!(mashup["limits"]["inputs_min"], 2, "{mashup}");
    assert_eq!(mashup["limits"]["inputs_max"], 4, "{mashup}");
    assert_eq!(
        mashup["params"]["properties"]["tempo_bpm"]["maximum"], 240.0,
        "{mashup}"
    );

    app.get("/v1/generators/mashup-9000", &fan)
        .await
        .problem(404, None);
    let anonymous = app
        .client
        .get(format!("{}/v1/generators", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    // The served document carries the same schemas as components.
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let schema = &doc["components"]["schemas"]["RemixParams"];
    assert_eq!(schema["properties"]["tempo"]["maximum"], 2.0, "{schema}");
    assert!(schema.get("$schema").is_none());
    assert!(doc["components"]["schemas"]["CoverParams"]["properties"].is_object());
    let mashup = &doc["components"]["schemas"]["MashupParams"];
    assert!(mashup["properties"]["mode"].is_object(), "{mashup}");
    assert!(doc["paths"]["/v1/generators/{name}"]["get"].is_object());
});
